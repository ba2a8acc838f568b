package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.DescribeKeyRequest;
import io.p11kms.proto.v1.EnableKeyRotationRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.GetKeyRotationStatusRequest;
import io.p11kms.proto.v1.GetKeyRotationStatusResponse;
import io.p11kms.proto.v1.KeyListEntry;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.KeyManager;
import io.p11kms.proto.v1.KeyMetadata;
import io.p11kms.proto.v1.ListKeysRequest;
import io.p11kms.proto.v1.PutKeyPolicyRequest;
import io.p11kms.server.service.AccountService;
import io.p11kms.server.service.ServiceRegistry;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.KmsException;

/**
 * Service-owned keys end to end on a real server with mutual TLS and the AWS JSON API: a registered
 * service's own key (in its own account) is used by the service for two customer accounts and is
 * invisible to both, whatever its policy says: not listed, NotFound to describe or use, and absent
 * from their audit views; the service sets its rotation. Over the JSON API the service names its
 * customer in a signed {@code x-p11kms-on-behalf-of} header.
 */
class ServiceOwnedKeysIT {
  private static final String A = "616161616161";
  private static final String B = "626262626262";
  private static final String S = "636363636363";
  private static final String A_APP = "spiffe://p11kms.test/account/" + A + "/app-a";
  private static final String B_APP = "spiffe://p11kms.test/account/" + B + "/app-b";
  private static final String BACKUP = "spiffe://p11kms.test/account/" + S + "/svc-backup";
  private static final String ON_BEHALF_OF = "x-p11kms-on-behalf-of";
  private static final String OPEN_POLICY =
      "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\","
          + "\"Resource\":\"*\"}}";

  private static KmsSecureTestServer server;
  private static KeyManagementServiceBlockingStub service;
  private static KeyManagementServiceBlockingStub a;
  private static KeyManagementServiceBlockingStub b;

  @BeforeAll
  static void start() throws Exception {
    server = KmsSecureTestServer.start();
    AccountService accounts =
        new AccountService(server.store(), KmsTestServer.ARNS, Clock.systemUTC());
    // A and B would even take keys of the service's account, if a key policy let them in.
    accounts.create(S, "backup-service", List.of());
    accounts.create(A, "owned-test-a", List.of(S));
    accounts.create(B, "owned-test-b", List.of(S));
    new ServiceRegistry(server.store(), KmsTestServer.ARNS, Clock.systemUTC())
        .register("backup", S, List.of(BACKUP));
    service = server.client(BACKUP);
    a = server.client(A_APP);
    b = server.client(B_APP);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void serviceOwnedKey_usedForTwoAccounts_invisibleToBoth() throws Exception {
    KeyMetadata owned =
        service
            .createKey(io.p11kms.proto.v1.CreateKeyRequest.getDefaultInstance())
            .getKeyMetadata();
    String arn = owned.getArn();
    assertThat(owned.getAwsAccountId()).isEqualTo(S);
    assertThat(owned.getKeyManager()).isEqualTo(KeyManager.AWS);

    // Its rotation is the service's to set.
    service.enableKeyRotation(
        EnableKeyRotationRequest.newBuilder()
            .setKeyId(owned.getKeyId())
            .setRotationPeriodInDays(90)
            .build());
    GetKeyRotationStatusResponse rotation =
        service.getKeyRotationStatus(
            GetKeyRotationStatusRequest.newBuilder().setKeyId(owned.getKeyId()).build());
    assertThat(rotation.getKeyRotationEnabled()).isTrue();
    assertThat(rotation.getRotationPeriodInDays()).isEqualTo(90);

    // Used by the service for A and for B.
    KeyManagementServiceBlockingStub forA = actingFor(service, A_APP);
    KeyManagementServiceBlockingStub forB = actingFor(service, B_APP);
    ByteString blobA = encrypt(forA, arn, "data of A");
    ByteString blobB = encrypt(forB, arn, "data of B");
    assertThat(decrypt(forA, blobA)).isEqualTo("data of A");
    assertThat(decrypt(forB, blobB)).isEqualTo("data of B");

    // Invisible to both, even under a policy open to everyone.
    service.putKeyPolicy(
        PutKeyPolicyRequest.newBuilder().setKeyId(owned.getKeyId()).setPolicy(OPEN_POLICY).build());
    for (KeyManagementServiceBlockingStub customer : List.of(a, b)) {
      assertThat(customer.listKeys(ListKeysRequest.getDefaultInstance()).getKeysList())
          .extracting(KeyListEntry::getKeyId)
          .doesNotContain(owned.getKeyId());
      for (String id : List.of(owned.getKeyId(), arn)) {
        Rpc.assertFails(
            () -> customer.describeKey(DescribeKeyRequest.newBuilder().setKeyId(id).build()),
            Status.Code.NOT_FOUND,
            "NotFoundException");
        Rpc.assertFails(
            () -> encrypt(customer, id, "x"), Status.Code.NOT_FOUND, "NotFoundException");
      }
      for (ByteString blob : List.of(blobA, blobB)) {
        Rpc.assertFails(() -> decrypt(customer, blob), Status.Code.NOT_FOUND, "NotFoundException");
      }
    }
    // Another registered service acting for A does not see it either.
    new ServiceRegistry(server.store(), KmsTestServer.ARNS, Clock.systemUTC())
        .register("mail", null, List.of("spiffe://p11kms.test/svc-mail"));
    KeyManagementServiceBlockingStub mailForA =
        actingFor(server.client("spiffe://p11kms.test/svc-mail"), A_APP);
    Rpc.assertFails(() -> decrypt(mailForA, blobA), Status.Code.NOT_FOUND, "NotFoundException");

    // The service's records name the customer; the customers' audit views hold none of them.
    List<JsonNode> forCustomers =
        server.auditRecords().stream()
            .filter(r -> r.path("keyArn").asText().equals(arn))
            .filter(r -> r.path("principal").asText().equals(BACKUP))
            .filter(r -> r.has("onBehalfOf"))
            .toList();
    assertThat(forCustomers).extracting(r -> r.path("onBehalfOfAccount").asText()).contains(A, B);
    assertThat(forCustomers)
        .filteredOn(r -> r.path("onBehalfOfAccount").asText().equals(A))
        .extracting(r -> r.path("onBehalfOf").asText())
        .containsOnly(A_APP);
    List<String> byServices =
        server.auditRecords().stream()
            .filter(r -> r.path("keyArn").asText().equals(arn))
            .filter(r -> r.has("onBehalfOf"))
            .map(r -> r.path("requestId").asText())
            .toList();
    assertThat(byServices).hasSizeGreaterThanOrEqualTo(5);
    for (String customer : List.of(A, B)) {
      String view = server.verifyAudit("--account", customer);
      assertThat(byServices).noneMatch(view::contains);
    }
    String ownView = server.verifyAudit("--account", S);
    assertThat(byServices)
        .filteredOn(
            id -> forCustomers.stream().anyMatch(r -> r.path("requestId").asText().equals(id)))
        .allMatch(ownView::contains);
  }

  @Test
  void awsJsonApi_signedOnBehalfOfHeader_actsForTheCustomer_unsignedOrNotAServiceIsRefused()
      throws Exception {
    String serviceKey = server.addAccessKey(BACKUP, S, "backup-secret");
    String customerKey = server.addAccessKey(A_APP, A, "a-secret");
    String region = KmsTestServer.ARNS.region();
    try (KmsClient json = server.awsClient(serviceKey, "backup-secret", region);
        KmsClient customer = server.awsClient(customerKey, "a-secret", region);
        KmsClient unsigned =
            server.awsClient(
                serviceKey, "backup-secret", region, http -> addingUnsigned(http, A_APP))) {
      String arn = json.createKey(r -> r.description("owned over JSON")).keyMetadata().arn();
      var encrypted =
          json.encrypt(
              r ->
                  r.keyId(arn)
                      .plaintext(SdkBytes.fromUtf8String("json data of A"))
                      .overrideConfiguration(o -> o.putHeader(ON_BEHALF_OF, A_APP)));
      var decrypted =
          json.decrypt(
              r ->
                  r.ciphertextBlob(encrypted.ciphertextBlob())
                      .overrideConfiguration(o -> o.putHeader(ON_BEHALF_OF, A_APP)));
      assertThat(decrypted.plaintext().asUtf8String()).isEqualTo("json data of A");
      JsonNode record = record(decrypted.responseMetadata().requestId());
      assertThat(record.path("principal").asText()).isEqualTo(BACKUP);
      assertThat(record.path("onBehalfOf").asText()).isEqualTo(A_APP);
      assertThat(record.path("onBehalfOfAccount").asText()).isEqualTo(A);

      // The customer itself: no such key.
      refused(() -> customer.describeKey(r -> r.keyId(arn)), "NotFoundException");
      // A header outside the signature is refused, and so is a customer naming another one.
      refused(() -> unsigned.describeKey(r -> r.keyId(arn)), "InvalidSignatureException");
      refused(
          () ->
              customer.listKeys(
                  r -> r.overrideConfiguration(o -> o.putHeader(ON_BEHALF_OF, B_APP))),
          "AccessDeniedException");
    }
  }

  /** Runs {@code call}, which must fail with the AWS exception {@code awsName}. */
  private static void refused(Runnable call, String awsName) {
    KmsException e = catchThrowableOfType(KmsException.class, call::run);
    assertThat(e).as(awsName).isNotNull();
    assertThat(e.awsErrorDetails().errorCode()).isEqualTo(awsName);
    assertThat(e.statusCode()).isEqualTo(400);
  }

  /** The audit record of {@code requestId}. */
  private static JsonNode record(String requestId) throws Exception {
    return server.auditRecords().stream()
        .filter(r -> r.path("requestId").asText().equals(requestId))
        .findFirst()
        .orElseThrow();
  }

  /** {@code http}, adding the on-behalf-of header to each request after it was signed. */
  private static SdkHttpClient addingUnsigned(SdkHttpClient http, String customer) {
    return new SdkHttpClient() {
      @Override
      public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
        return http.prepareRequest(
            HttpExecuteRequest.builder()
                .request(
                    request.httpRequest().toBuilder().putHeader(ON_BEHALF_OF, customer).build())
                .contentStreamProvider(request.contentStreamProvider().orElse(null))
                .build());
      }

      @Override
      public void close() {
        http.close();
      }
    };
  }

  private static KeyManagementServiceBlockingStub actingFor(
      KeyManagementServiceBlockingStub caller, String customer) {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of(ON_BEHALF_OF, Metadata.ASCII_STRING_MARSHALLER), customer);
    return caller.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  private static ByteString encrypt(
      KeyManagementServiceBlockingStub client, String keyId, String text) {
    return client
        .encrypt(
            EncryptRequest.newBuilder()
                .setKeyId(keyId)
                .setPlaintext(ByteString.copyFromUtf8(text))
                .putAllEncryptionContext(Map.of("purpose", "backup"))
                .build())
        .getCiphertextBlob();
  }

  private static String decrypt(KeyManagementServiceBlockingStub client, ByteString blob) {
    return client
        .decrypt(
            DecryptRequest.newBuilder()
                .setCiphertextBlob(blob)
                .putAllEncryptionContext(Map.of("purpose", "backup"))
                .build())
        .getPlaintext()
        .toStringUtf8();
  }
}
