package io.p11kms.it;

import static io.p11kms.it.KmsSecureTestServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.PutKeyPolicyRequest;
import io.p11kms.server.http.ListenerSecurity.ClientCertificates;
import io.p11kms.server.service.XksExposures;
import io.p11kms.server.xks.XksConfig;
import io.p11kms.server.xks.XksFrontEnd;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The external key store (XKS) proxy API over TLS, as AWS KMS connects to it: the server's
 * certificate (made at test time) trusted by the client, signed calls, a plaintext connection
 * refused; with mutual TLS and {@code xks.tls.client.cn}, AWS KMS's certificate served and any
 * other one (another CN, another CA, none) failing the TLS handshake, before any request is read or
 * recorded.
 */
class XksTlsIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String BASE = "/keystores/ks-tls/kms/xks/v1";
  private static final String XKS_PRINCIPAL = "xks:aws-kms";
  private static final String KEY_ID = "AKIAXKSTLSTEST2345AB";
  private static final String SECRET = "p6Qz1cUZsQ0cK3w4m8rT2n9b5vX1pL6hD3fG7aS2eY=";
  private static final String AWS_KMS_CN = "cks.kms.us-east-1.amazonaws.com";

  private static KmsSecureTestServer server;
  private static TestAccessKeys credentials;
  private static String externalKeyId;

  @BeforeAll
  static void start() throws Exception {
    server = KmsSecureTestServer.start();
    credentials = new TestAccessKeys(XksFrontEnd.SIGNING_SERVICE);
    credentials.add(KEY_ID, SECRET, server.accessControl().caller(XKS_PRINCIPAL));
    KeyManagementServiceBlockingStub admin = server.client(ADMIN);
    String keyId =
        admin.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
    admin.putKeyPolicy(
        PutKeyPolicyRequest.newBuilder()
            .setKeyId(keyId)
            .setPolicy(
                """
                {"Statement":[{"Effect":"Allow","Principal":{"AWS":["%s","%s"]},
                  "Action":"kms:*","Resource":"*"}]}
                """
                    .formatted(ADMIN, XKS_PRINCIPAL))
            .build());
    externalKeyId = "tls-" + UUID.randomUUID();
    new XksExposures(server.store(), KmsTestServer.ARNS, Clock.systemUTC())
        .expose(keyId, externalKeyId, Set.of("ENCRYPT", "DECRYPT"));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void overTls_signedCallsAreServed_unsignedOnesRefused() throws Exception {
    try (XksFrontEnd xks = startTls(ClientCertificates.NONE, "")) {
      XksTestClient aws = client(xks, server.clientContext(null));

      assertThat(aws.post(BASE + "/health", health("tls-health")).status()).isEqualTo(200);
      byte[] plaintext = "over TLS".getBytes(StandardCharsets.UTF_8);
      XksTestClient.Reply encrypted =
          aws.post(keyPath("encrypt"), encrypt(Base64.getEncoder().encodeToString(plaintext)));
      assertThat(encrypted.status()).as(encrypted.body()).isEqualTo(200);
      XksTestClient.Reply decrypted = aws.post(keyPath("decrypt"), decrypt(encrypted.json()));
      assertThat(decrypted.status()).as(decrypted.body()).isEqualTo(200);
      assertThat(Base64.getDecoder().decode(decrypted.json().path("plaintext").asText()))
          .isEqualTo(plaintext);

      XksTestClient.Reply unsigned = aws.postUnsigned(BASE + "/health", health("tls-unsigned"));
      assertThat(unsigned.status()).isEqualTo(401);
      assertThat(unsigned.errorName()).isEqualTo("AuthenticationFailedException");
    }
  }

  @Test
  void plaintextToTheTlsListener_isRefused_nothingServedOrRecorded() throws Exception {
    try (XksFrontEnd xks = startTls(ClientCertificates.NONE, "")) {
      int recordsBefore = requestRecords().size();
      String body = health("plaintext-" + UUID.randomUUID());
      XksTestClient plain =
          new XksTestClient("http://localhost:" + xks.port(), KEY_ID, SECRET, "us-east-1");
      assertThatThrownBy(() -> plain.post(BASE + "/health", body)).isInstanceOf(IOException.class);

      // The same over a bare socket: what comes back (if anything) is no HTTP response.
      try (Socket socket = new Socket("127.0.0.1", xks.port())) {
        socket.setSoTimeout(10_000);
        OutputStream out = socket.getOutputStream();
        out.write(
            ("POST "
                    + BASE
                    + "/health HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: "
                    + body.length()
                    + "\r\nConnection: close\r\n\r\n"
                    + body)
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        assertThat(
                new String(readUntilClosed(socket.getInputStream()), StandardCharsets.ISO_8859_1))
            .doesNotStartWith("HTTP/");
      }
      assertThat(requestRecords()).hasSize(recordsBefore);
    }
  }

  @Test
  void mutualTls_awsKmsCommonName_isServed_andRecorded() throws Exception {
    try (XksFrontEnd xks = startTls(ClientCertificates.REQUIRED, AWS_KMS_CN)) {
      XksTestClient aws = client(xks, server.clientContext(server.clientCertificate(AWS_KMS_CN)));
      String requestId = "mtls-" + UUID.randomUUID();

      assertThat(aws.post(BASE + "/health", health(requestId)).status()).isEqualTo(200);
      JsonNode record = record(requestId);
      assertThat(record.path("operation").asText()).isEqualTo("XksGetHealthStatus");
      assertThat(record.path("principal").asText()).isEqualTo(XKS_PRINCIPAL);
      assertThat(record.path("outcome").asText()).isEqualTo("SUCCEEDED");
    }
  }

  @Test
  void mutualTls_anyOtherCertificate_failsTheHandshake_beforeAnythingIsRecorded() throws Exception {
    try (XksFrontEnd xks = startTls(ClientCertificates.REQUIRED, AWS_KMS_CN)) {
      int recordsBefore = requestRecords().size();
      List<SSLContext> others =
          List.of(
              // Chains to the configured CA, for AWS KMS in another region.
              server.clientContext(server.clientCertificate("cks.kms.eu-west-1.amazonaws.com")),
              // The right CN from another CA.
              server.clientContext(server.clientCertificateOfAnotherCa(AWS_KMS_CN)),
              // No certificate.
              server.clientContext(null));
      for (SSLContext other : others) {
        // Correctly signed: only the handshake can refuse it.
        XksTestClient refused = client(xks, other);
        assertThatThrownBy(() -> refused.post(BASE + "/health", health("other-cert")))
            .isInstanceOf(IOException.class);
      }
      assertThat(requestRecords()).hasSize(recordsBefore);
    }
  }

  private static XksFrontEnd startTls(ClientCertificates clientCertificates, String commonName) {
    return XksFrontEnd.start(
        new XksConfig(
            0,
            "127.0.0.1",
            "/keystores/ks-tls",
            1,
            clientCertificates,
            16,
            Duration.ofSeconds(20),
            commonName),
        server.security(),
        server.accessControl(),
        server.hsm(),
        credentials,
        Clock.systemUTC(),
        4);
  }

  private static XksTestClient client(XksFrontEnd xks, SSLContext tls) {
    return new XksTestClient("https://localhost:" + xks.port(), KEY_ID, SECRET, "us-east-1", tls);
  }

  private static String keyPath(String op) {
    return BASE + "/keys/" + externalKeyId + "/" + op;
  }

  private static String health(String kmsRequestId) {
    return "{\"requestMetadata\":{\"kmsRequestId\":\""
        + kmsRequestId
        + "\",\"kmsOperation\":\"KmsHealthCheck\"}}";
  }

  private static String requestMetadata(String kmsOperation) {
    return "\"requestMetadata\":{\"awsPrincipalArn\":\"arn:aws:iam::123456789012:user/Alice\","
        + "\"kmsKeyArn\":\"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\","
        + "\"kmsOperation\":\""
        + kmsOperation
        + "\",\"kmsRequestId\":\""
        + UUID.randomUUID()
        + "\"}";
  }

  private static String encrypt(String plaintextBase64) {
    return "{"
        + requestMetadata("Encrypt")
        + ",\"plaintext\":\""
        + plaintextBase64
        + "\",\"encryptionAlgorithm\":\"AES_GCM\"}";
  }

  private static String decrypt(JsonNode encrypted) {
    return "{"
        + requestMetadata("Decrypt")
        + ",\"ciphertext\":\""
        + encrypted.path("ciphertext").asText()
        + "\",\"ciphertextMetadata\":\""
        + encrypted.path("ciphertextMetadata").asText()
        + "\",\"initializationVector\":\""
        + encrypted.path("initializationVector").asText()
        + "\",\"authenticationTag\":\""
        + encrypted.path("authenticationTag").asText()
        + "\",\"encryptionAlgorithm\":\"AES_GCM\"}";
  }

  /** What the server sends before it closes the connection (or the read times out). */
  private static byte[] readUntilClosed(InputStream in) throws IOException {
    try {
      return in.readAllBytes();
    } catch (IOException e) {
      // A reset after the server's alert: nothing HTTP came back.
      return new byte[0];
    }
  }

  private static List<JsonNode> requestRecords() throws Exception {
    return server.auditRecords();
  }

  private static JsonNode record(String kmsRequestId) throws Exception {
    return requestRecords().stream()
        .filter(r -> r.path("requestMetadata").path("kmsRequestId").asText().equals(kmsRequestId))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no audit record for " + kmsRequestId));
  }
}
