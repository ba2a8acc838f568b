package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import io.p11kms.proto.v1.AliasListEntry;
import io.p11kms.proto.v1.CreateAliasRequest;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.DescribeKeyRequest;
import io.p11kms.proto.v1.DisableKeyRequest;
import io.p11kms.proto.v1.DisableKeyRotationRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.GetKeyPolicyRequest;
import io.p11kms.proto.v1.GetKeyRotationStatusRequest;
import io.p11kms.proto.v1.GetKeyRotationStatusResponse;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.KeyManager;
import io.p11kms.proto.v1.KeyMetadata;
import io.p11kms.proto.v1.ListAliasesRequest;
import io.p11kms.proto.v1.PutKeyPolicyRequest;
import io.p11kms.proto.v1.ScheduleKeyDeletionRequest;
import io.p11kms.proto.v1.Tag;
import io.p11kms.proto.v1.TagResourceRequest;
import io.p11kms.proto.v1.UpdateKeyDescriptionRequest;
import io.p11kms.server.service.AccountService;
import io.p11kms.server.service.ServiceRegistry;
import java.nio.file.Files;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Service-managed keys end to end on a real server with mutual TLS: a registered service makes
 * {@code alias/aws/<service>} in a customer's account on its first use (once, under 16 concurrent
 * first uses), uses it for that account only; the account sees it (KeyManager AWS, rotation 365
 * days and on) and can neither change nor use it directly; naming a customer without being a
 * registered service's principal is refused and audited.
 */
class ServiceManagedKeysIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String A = "313131313131";
  private static final String B = "525252525252";
  private static final String A_APP = "spiffe://p11kms.test/account/" + A + "/owner-a";
  private static final String B_APP = "spiffe://p11kms.test/account/" + B + "/owner-b";
  private static final String STORAGE = "spiffe://p11kms.test/svc-storage";
  private static final String ALIAS = "alias/aws/storage";

  private static KmsSecureTestServer server;
  private static KeyManagementServiceBlockingStub a;

  @BeforeAll
  static void start() throws Exception {
    server = KmsSecureTestServer.start();
    AccountService accounts =
        new AccountService(server.store(), KmsTestServer.ARNS, Clock.systemUTC());
    accounts.create(A, "svc-test-a", List.of());
    accounts.create(B, "svc-test-b", List.of());
    new ServiceRegistry(server.store(), KmsTestServer.ARNS, Clock.systemUTC())
        .register("storage", null, List.of(STORAGE));
    a = server.client(A_APP);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void firstUse_16Concurrent_makeOneKey_usableForTheAccountOnly_readOnlyToIt() throws Exception {
    KeyManagementServiceBlockingStub forA = actingFor(server.client(STORAGE), A_APP);
    ExecutorService pool = Executors.newFixedThreadPool(16);
    List<Future<ByteString>> blobs = new ArrayList<>();
    try {
      for (int i = 0; i < 16; i++) {
        Callable<ByteString> first = () -> encrypt(forA, ALIAS);
        blobs.add(pool.submit(first));
      }
      for (Future<ByteString> f : blobs) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    List<AliasListEntry> aliases =
        a.listAliases(ListAliasesRequest.getDefaultInstance()).getAliasesList().stream()
            .filter(e -> e.getAliasName().equals(ALIAS))
            .toList();
    assertThat(aliases).hasSize(1);
    String keyId = aliases.get(0).getTargetKeyId();
    assertThat(a.listKeys(io.p11kms.proto.v1.ListKeysRequest.getDefaultInstance()).getKeysCount())
        .isEqualTo(1);

    // The account sees it: KeyManager AWS, in its account, rotation yearly and on.
    KeyMetadata described = describe(a, ALIAS);
    assertThat(described.getKeyId()).isEqualTo(keyId);
    assertThat(described.getKeyManager()).isEqualTo(KeyManager.AWS);
    assertThat(described.getAwsAccountId()).isEqualTo(A);
    GetKeyRotationStatusResponse rotation =
        a.getKeyRotationStatus(GetKeyRotationStatusRequest.newBuilder().setKeyId(keyId).build());
    assertThat(rotation.getKeyRotationEnabled()).isTrue();
    assertThat(rotation.getRotationPeriodInDays()).isEqualTo(365);
    assertThat(a.getKeyPolicy(GetKeyPolicyRequest.newBuilder().setKeyId(keyId).build()).getPolicy())
        .contains("kms:ViaService");

    // Through the service, for A: every ciphertext decrypts.
    for (Future<ByteString> f : blobs) {
      assertThat(decrypt(forA, f.get())).isEqualTo("service data");
    }
    // Not for another account: the service acting for B finds no such key.
    KeyManagementServiceBlockingStub forB = actingFor(server.client(STORAGE), B_APP);
    Rpc.assertFails(
        () -> decrypt(forB, blobs.get(0).get()), Status.Code.NOT_FOUND, "NotFoundException");
    // Nor directly by the account's own principals.
    Rpc.assertFails(
        () -> decrypt(a, blobs.get(0).get()),
        Status.Code.PERMISSION_DENIED,
        "AccessDeniedException");
    Rpc.assertFails(
        () -> encrypt(a, ALIAS), Status.Code.PERMISSION_DENIED, "AccessDeniedException");

    // The account cannot change, disable, delete, tag or rotate it.
    List<Runnable> changes =
        List.of(
            () -> a.disableKey(DisableKeyRequest.newBuilder().setKeyId(keyId).build()),
            () ->
                a.scheduleKeyDeletion(
                    ScheduleKeyDeletionRequest.newBuilder().setKeyId(keyId).build()),
            () ->
                a.tagResource(
                    TagResourceRequest.newBuilder()
                        .setKeyId(keyId)
                        .addTags(Tag.newBuilder().setTagKey("k").setTagValue("v"))
                        .build()),
            () ->
                a.disableKeyRotation(
                    DisableKeyRotationRequest.newBuilder().setKeyId(keyId).build()),
            () ->
                a.putKeyPolicy(
                    PutKeyPolicyRequest.newBuilder()
                        .setKeyId(keyId)
                        .setPolicy(
                            "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\","
                                + "\"Action\":\"kms:*\",\"Resource\":\"*\"}}")
                        .build()),
            () ->
                a.updateKeyDescription(
                    UpdateKeyDescriptionRequest.newBuilder()
                        .setKeyId(keyId)
                        .setDescription("mine")
                        .build()));
    for (Runnable change : changes) {
      Rpc.assertFails(change::run, Status.Code.PERMISSION_DENIED, "AccessDeniedException");
    }
    // Nor point an alias at it, and alias/aws/ is reserved even for its own keys.
    Rpc.assertFails(
        () ->
            a.createAlias(
                CreateAliasRequest.newBuilder()
                    .setAliasName("alias/mine")
                    .setTargetKeyId(keyId)
                    .build()),
        Status.Code.PERMISSION_DENIED,
        "AccessDeniedException");
    String own = a.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
    Rpc.assertFails(
        () ->
            a.createAlias(
                CreateAliasRequest.newBuilder()
                    .setAliasName("alias/aws/other")
                    .setTargetKeyId(own)
                    .build()),
        Status.Code.INVALID_ARGUMENT,
        "ValidationException");
    assertThat(describe(a, keyId).getKeyState().name()).isEqualTo("ENABLED");
  }

  @Test
  void serviceCallsForACustomer_nameIt_andAreInItsAuditView() throws Exception {
    KeyManagementServiceBlockingStub forA = actingFor(server.client(STORAGE), A_APP);
    encrypt(forA, ALIAS);
    // A call that finds no key is the customer's too.
    Rpc.assertFails(
        () -> encrypt(forA, "alias/none-such"), Status.Code.NOT_FOUND, "NotFoundException");
    List<JsonNode> forAccountA =
        server.auditRecords().stream()
            .filter(r -> r.path("principal").asText().equals(STORAGE))
            .filter(r -> r.path("onBehalfOfAccount").asText().equals(A))
            .toList();
    assertThat(forAccountA).extracting(r -> r.path("onBehalfOf").asText()).containsOnly(A_APP);
    assertThat(forAccountA)
        .extracting(r -> r.path("outcome").asText())
        .contains("SUCCEEDED", "FAILED");
    String view = server.verifyAudit("--account", A);
    for (JsonNode r : forAccountA) {
      assertThat(view).contains(r.path("requestId").asText());
    }
    String viewOfB = server.verifyAudit("--account", B);
    for (JsonNode r : forAccountA) {
      assertThat(viewOfB).doesNotContain(r.path("requestId").asText());
    }
  }

  @Test
  void listAliases_showsAServicesAliasBeforeItsFirstUse_withoutATarget() throws Exception {
    KeyManagementServiceBlockingStub b = server.client(B_APP);
    List<AliasListEntry> listed =
        b.listAliases(ListAliasesRequest.getDefaultInstance()).getAliasesList().stream()
            .filter(e -> e.getAliasName().equals(ALIAS))
            .toList();
    assertThat(listed).hasSize(1);
    assertThat(listed.get(0).getTargetKeyId()).isEmpty();
    assertThat(listed.get(0).hasCreationDate()).isFalse();
    assertThat(listed.get(0).getAliasArn()).endsWith(":" + B + ":" + ALIAS);
  }

  @Test
  void listAliases_pagesThePredefinedAliases_neverMoreThanLimit() throws Exception {
    String c = "737373737373";
    new AccountService(server.store(), KmsTestServer.ARNS, Clock.systemUTC())
        .create(c, "svc-test-c", List.of());
    ServiceRegistry services =
        new ServiceRegistry(server.store(), KmsTestServer.ARNS, Clock.systemUTC());
    services.register("backup", null, List.of("spiffe://p11kms.test/svc-backup"));
    services.register("queue", null, List.of("spiffe://p11kms.test/svc-queue"));
    KeyManagementServiceBlockingStub forC =
        server.client("spiffe://p11kms.test/account/" + c + "/owner-c");
    String key = forC.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
    forC.createAlias(
        CreateAliasRequest.newBuilder().setAliasName("alias/own").setTargetKeyId(key).build());
    List<String> expected =
        List.of("alias/own", "alias/aws/backup", "alias/aws/queue", "alias/aws/storage");

    for (int limit = 1; limit <= 4; limit++) {
      List<String> seen = new ArrayList<>();
      String marker = "";
      int pages = 0;
      do {
        io.p11kms.proto.v1.ListAliasesResponse page =
            forC.listAliases(
                ListAliasesRequest.newBuilder().setLimit(limit).setMarker(marker).build());
        assertThat(page.getAliasesCount()).as("limit %d", limit).isLessThanOrEqualTo(limit);
        assertThat(page.getTruncated()).isEqualTo(!page.getNextMarker().isEmpty());
        page.getAliasesList().forEach(e -> seen.add(e.getAliasName()));
        marker = page.getNextMarker();
        pages++;
      } while (!marker.isEmpty() && pages < 10);
      assertThat(seen).as("limit %d", limit).isEqualTo(expected);
    }
  }

  @Test
  void namingACustomer_withoutBeingARegisteredService_isRefusedAndAudited() throws Exception {
    KeyManagementServiceBlockingStub pretender = actingFor(server.client(B_APP), A_APP);
    Rpc.assertFails(
        () -> pretender.createKey(CreateKeyRequest.getDefaultInstance()),
        Status.Code.PERMISSION_DENIED,
        "AccessDeniedException");
    Rpc.assertFails(
        () -> encrypt(pretender, ALIAS), Status.Code.PERMISSION_DENIED, "AccessDeniedException");
    long denied =
        Files.readAllLines(server.auditFile()).stream()
            .map(ServiceManagedKeysIT::json)
            .filter(r -> r.path("principal").asText().equals(B_APP))
            .filter(r -> r.path("outcome").asText().equals("DENIED"))
            .count();
    assertThat(denied).isEqualTo(2);
  }

  private static JsonNode json(String line) {
    try {
      return JSON.readTree(line);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static KeyManagementServiceBlockingStub actingFor(
      KeyManagementServiceBlockingStub service, String customer) {
    Metadata headers = new Metadata();
    headers.put(
        Metadata.Key.of("x-p11kms-on-behalf-of", Metadata.ASCII_STRING_MARSHALLER), customer);
    return service.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  private static KeyMetadata describe(KeyManagementServiceBlockingStub client, String keyId) {
    return client
        .describeKey(DescribeKeyRequest.newBuilder().setKeyId(keyId).build())
        .getKeyMetadata();
  }

  private static ByteString encrypt(KeyManagementServiceBlockingStub client, String keyId) {
    return client
        .encrypt(
            EncryptRequest.newBuilder()
                .setKeyId(keyId)
                .setPlaintext(ByteString.copyFromUtf8("service data"))
                .build())
        .getCiphertextBlob();
  }

  private static String decrypt(KeyManagementServiceBlockingStub client, ByteString blob) {
    return client
        .decrypt(DecryptRequest.newBuilder().setCiphertextBlob(blob).build())
        .getPlaintext()
        .toStringUtf8();
  }
}
