package io.p11kms.it;

import static io.p11kms.it.KmsSecureTestServer.ADMIN;
import static io.p11kms.it.KmsSecureTestServer.ALICE;
import static io.p11kms.it.KmsSecureTestServer.BOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.grpc.StatusRuntimeException;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.EncryptResponse;
import software.amazon.awssdk.services.kms.model.KmsException;

/**
 * The AWS JSON API as production runs it: TLS, every request verified by its AWS Signature Version
 * 4 and run as the access key's principal through the same access control and audit log as gRPC. A
 * wrong secret, an unknown access key, another region's scope and an unsigned request are each
 * refused by their AWS names, recorded, and run nothing.
 */
class AwsApiSecureIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static KmsSecureTestServer server;
  private static KmsClient admin;
  private static KmsClient bob;
  private static KeyManagementServiceBlockingStub adminGrpc;
  private static KeyManagementServiceBlockingStub bobGrpc;

  @BeforeAll
  static void start() throws Exception {
    server = KmsSecureTestServer.start();
    admin = server.awsClientFor(ADMIN, "admin-secret", "admin-secret");
    bob = server.awsClientFor(BOB, "bob-secret", "bob-secret");
    adminGrpc = server.client(ADMIN);
    bobGrpc = server.client(BOB);
  }

  @AfterAll
  static void stop() throws Exception {
    admin.close();
    bob.close();
    server.close();
  }

  @Test
  void signedOverTls_oneServiceWithGrpc_recordedUnderTheResponsesRequestId() throws Exception {
    String key = admin.createKey(b -> b.description("aws")).keyMetadata().keyId();
    byte[] secret = "over the AWS API".getBytes(StandardCharsets.UTF_8);
    EncryptResponse encrypted =
        admin.encrypt(
            b ->
                b.keyId(key)
                    .plaintext(SdkBytes.fromByteArray(secret))
                    .encryptionContext(Map.of("app", "ledger")));
    // The ciphertext is the service's: gRPC decrypts what the AWS API encrypted.
    assertThat(
            adminGrpc
                .decrypt(
                    DecryptRequest.newBuilder()
                        .setCiphertextBlob(
                            ByteString.copyFrom(encrypted.ciphertextBlob().asByteArray()))
                        .putEncryptionContext("app", "ledger")
                        .build())
                .getPlaintext()
                .toByteArray())
        .isEqualTo(secret);

    JsonNode record = record(encrypted.responseMetadata().requestId()).orElseThrow();
    assertThat(record.path("principal").asText()).isEqualTo(ADMIN);
    assertThat(record.path("operation").asText()).isEqualTo("Encrypt");
    assertThat(record.path("outcome").asText()).isEqualTo("SUCCEEDED");
    assertThat(record.path("keyArn").asText()).endsWith(key);
    assertThat(record.path("contextKeys").toString()).isEqualTo("[\"app\"]");
  }

  @Test
  void wrongSecret_invalidSignature_recorded_nothingRun() throws Exception {
    int keysBefore = admin.listKeys(b -> b.limit(1000)).keys().size();
    try (KmsClient wrong = server.awsClientFor(ALICE, "alice-secret", "not-alice-secret")) {
      KmsException e = refused("InvalidSignatureException", () -> wrong.createKey(b -> {}));
      JsonNode record = record(e.requestId()).orElseThrow();
      assertThat(record.path("operation").asText()).isEqualTo("CreateKey");
      assertThat(record.path("outcome").asText()).isEqualTo("FAILED");
      assertThat(record.path("error").asText()).isEqualTo("InvalidSignatureException");
      assertThat(record.path("principal").asText()).startsWith("access-key:AKIA");
    }
    assertThat(admin.listKeys(b -> b.limit(1000)).keys()).hasSize(keysBefore);
  }

  @Test
  void unknownAccessKey_unrecognizedClient() throws Exception {
    try (KmsClient unknown =
        server.awsClient("AKIANOSUCHKEY", "secret", KmsTestServer.ARNS.region())) {
      KmsException e = refused("UnrecognizedClientException", () -> unknown.listKeys());
      assertThat(record(e.requestId()).orElseThrow().path("error").asText())
          .isEqualTo("UnrecognizedClientException");
    }
  }

  @Test
  void credentialScopedToAnotherRegion_invalidSignature() throws Exception {
    String id = server.addAccessKey(ALICE, "alice-region");
    try (KmsClient home = server.awsClient(id, "alice-region", KmsTestServer.ARNS.region())) {
      assertThat(home.listKeys().keys()).isNotNull();
    }
    try (KmsClient elsewhere = server.awsClient(id, "alice-region", "eu-west-1")) {
      refused("InvalidSignatureException", () -> elsewhere.listKeys());
    }
  }

  @Test
  void unsignedRequest_missingAuthenticationToken() throws Exception {
    HttpResponse<String> response =
        https()
            .send(
                HttpRequest.newBuilder(server.awsEndpoint())
                    .header("X-Amz-Target", "TrentService.ListKeys")
                    .header("Content-Type", "application/x-amz-json-1.1")
                    .POST(HttpRequest.BodyPublishers.ofString("{}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(response.body()).get("__type").asText())
        .isEqualTo("MissingAuthenticationTokenException");
    String requestId = response.headers().firstValue("x-amzn-RequestId").orElseThrow();
    assertThat(record(requestId).orElseThrow().path("principal").asText())
        .isEqualTo("unauthenticated");
  }

  @Test
  void accessDenied_asGrpcDeniesIt_recorded() throws Exception {
    String key = admin.createKey(b -> {}).keyMetadata().keyId();
    KmsException aws =
        refused(
            "AccessDeniedException",
            () -> bob.encrypt(b -> b.keyId(key).plaintext(SdkBytes.fromUtf8String("x"))));
    StatusRuntimeException grpc =
        catchThrowableOfType(
            StatusRuntimeException.class,
            () ->
                bobGrpc.encrypt(
                    EncryptRequest.newBuilder()
                        .setKeyId(key)
                        .setPlaintext(ByteString.copyFromUtf8("x"))
                        .build()));
    assertThat(grpc.getStatus().getDescription())
        .isEqualTo("AccessDeniedException: " + aws.awsErrorDetails().errorMessage());
    JsonNode record = record(aws.requestId()).orElseThrow();
    assertThat(record.path("principal").asText()).isEqualTo(BOB);
    assertThat(record.path("outcome").asText()).isEqualTo("DENIED");
    assertThat(record.path("keyArn").asText()).endsWith(key);
  }

  private static KmsException refused(String awsName, Runnable call) {
    KmsException e = catchThrowableOfType(KmsException.class, call::run);
    assertThat(e).as(awsName).isNotNull();
    assertThat(e.awsErrorDetails().errorCode()).isEqualTo(awsName);
    assertThat(e.statusCode()).isEqualTo(400);
    assertThat(e.requestId()).isNotEmpty();
    return e;
  }

  /** The audit log's request record of {@code requestId}. */
  private static Optional<JsonNode> record(String requestId) throws Exception {
    for (String line : Files.readAllLines(server.auditFile())) {
      JsonNode r = JSON.readTree(line);
      if (r.path("type").asText().equals("request")
          && r.path("requestId").asText().equals(requestId)) {
        return Optional.of(r);
      }
    }
    return Optional.empty();
  }

  /** A plain HTTPS client that trusts the test CA and sends no certificate. */
  private static HttpClient https() throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (var in = Files.newInputStream(server.caFile())) {
      trust.setCertificateEntry(
          "ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, tmf.getTrustManagers(), null);
    return HttpClient.newBuilder()
        .sslContext(context)
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10))
        .build();
  }
}
