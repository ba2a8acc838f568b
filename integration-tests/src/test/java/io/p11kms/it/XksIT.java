package io.p11kms.it;

import static io.p11kms.it.KmsSecureTestServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.p11kms.hsm.testing.TempDirs;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DisableKeyRequest;
import io.p11kms.proto.v1.EnableKeyRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.PutKeyPolicyRequest;
import io.p11kms.proto.v1.RotateKeyOnDemandRequest;
import io.p11kms.server.access.Caller;
import io.p11kms.server.config.SecurityConfig;
import io.p11kms.server.http.ListenerSecurity;
import io.p11kms.server.service.XksExposures;
import io.p11kms.server.xks.XksConfig;
import io.p11kms.server.xks.XksFrontEnd;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The external key store (XKS) proxy API on a real port, over a real token, called by a test client
 * that signs as AWS KMS does: every endpoint, every error by the specification's name and HTTP
 * status, tampered inputs, usages, key states, authentication, the per-key policy on
 * requestMetadata and the audit records.
 */
class XksIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Base64.Encoder B64 = Base64.getEncoder();
  private static final String PREFIX = "/keystores/ks-1";
  private static final String BASE = PREFIX + "/kms/xks/v1";
  private static final String XKS_PRINCIPAL = "xks:aws-kms";
  private static final String KEY_ID_1 = "AKIAXKSTESTONE2345AB";
  private static final String SECRET_1 = "K0j7y1cUZsQ0cK3w4m8rT2n9b5vX1pL6hD3fG7aS2eY=";
  private static final String KEY_ID_2 = "AKIAXKSTESTTWO2345AB";
  private static final String SECRET_2 = "Zq9w8e7r6t5y4u3i2o1pAsDfGhJkLzXcVbNm0123456=";
  private static final String KMS_KEY_ARN =
      "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

  private static KmsSecureTestServer server;
  private static KeyManagementServiceBlockingStub admin;
  private static TestAccessKeys credentials;
  private static XksFrontEnd xks;
  private static XksTestClient client;
  private static XksExposures exposures;

  @BeforeAll
  static void start() throws Exception {
    server = KmsSecureTestServer.start();
    admin = server.client(ADMIN);
    credentials = new TestAccessKeys("kms-xks-proxy");
    Caller caller = server.accessControl().caller(XKS_PRINCIPAL);
    credentials.add(KEY_ID_1, SECRET_1, caller);
    SecurityConfig dev = SecurityConfig.builder(server.auditFile()).devMode(true).build();
    xks =
        XksFrontEnd.start(
            new XksConfig(
                0,
                "127.0.0.1",
                PREFIX,
                2,
                ListenerSecurity.ClientCertificates.NONE,
                64,
                Duration.ofSeconds(20),
                ""),
            dev,
            server.accessControl(),
            server.hsm(),
            credentials,
            Clock.systemUTC(),
            8);
    client = new XksTestClient("http://127.0.0.1:" + xks.port(), KEY_ID_1, SECRET_1, "us-east-1");
    exposures = new XksExposures(server.store(), KmsTestServer.ARNS, Clock.systemUTC());
  }

  @AfterAll
  static void stop() throws Exception {
    if (xks != null) {
      xks.close();
    }
    server.close();
  }

  // --- GetHealthStatus

  @Test
  void health_reportsTheProxyAndTheToken_asCompactJson() throws Exception {
    XksTestClient.Reply r = client.post(BASE + "/health", metadata(m -> {}, "KmsHealthCheck"));

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).doesNotContain("\n").doesNotContain(": ");
    assertThat(r.json().path("xksProxyFleetSize").asInt()).isEqualTo(2);
    assertThat(r.json().path("xksProxyVendor").asText()).isEqualTo("p11kms");
    assertThat(r.json().path("xksProxyModel").asText()).startsWith("p11kms XKS proxy");
    assertThat(r.json().path("ekmVendor").asText()).isEqualTo("SoftHSM project");
    JsonNode ekm = r.json().path("ekmFleetDetails");
    assertThat(ekm).hasSize(1);
    assertThat(ekm.get(0).path("healthStatus").asText()).isEqualTo("ACTIVE");
    assertThat(ekm.get(0).path("model").asText()).startsWith("SoftHSM");
    assertThat(ekm.get(0).path("id").asText()).isNotEmpty();
  }

  // --- GetKeyMetadata

  @Test
  void metadata_saysAes256_itsUsages_andFollowsTheKeysState() throws Exception {
    String keyId = newKey();
    String ext = expose(keyId, "ENCRYPT");

    XksTestClient.Reply r = client.post(keyPath(ext, "metadata"), metadata(m -> {}, "CreateKey"));
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body())
        .isEqualTo(
            "{\"keySpec\":\"AES_256\",\"keyUsage\":[\"ENCRYPT\"],\"keyStatus\":\"ENABLED\"}");

    admin.disableKey(DisableKeyRequest.newBuilder().setKeyId(keyId).build());
    r = client.post(keyPath(ext, "metadata"), metadata(m -> {}, "DescribeKey"));
    assertThat(r.json().path("keyStatus").asText()).isEqualTo("DISABLED");
  }

  // --- Encrypt and Decrypt

  @Test
  void encryptThenDecrypt_roundTrips_withTheSpecsSizes_andIntegrityValue() throws Exception {
    String ext = expose(newKey(), "ENCRYPT", "DECRYPT");
    byte[] plaintext = random(4300);
    byte[] aad = random(8192);

    XksTestClient.Reply e =
        client.post(keyPath(ext, "encrypt"), encrypt(plaintext, aad, true, "GenerateDataKey"));
    assertThat(e.status()).as(e.body()).isEqualTo(200);
    byte[] ciphertext = decoded(e, "ciphertext");
    byte[] iv = decoded(e, "initializationVector");
    byte[] tag = decoded(e, "authenticationTag");
    byte[] metadata = decoded(e, "ciphertextMetadata");
    assertThat(ciphertext).hasSize(plaintext.length).isNotEqualTo(plaintext);
    assertThat(iv).hasSize(12);
    assertThat(tag).hasSize(16);
    assertThat(metadata.length).isLessThanOrEqualTo(20);
    MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
    for (byte[] part : List.of(aad, metadata, iv, ciphertext, tag)) {
      sha256.update(part);
    }
    assertThat(decoded(e, "ciphertextDataIntegrityValue")).isEqualTo(sha256.digest());

    XksTestClient.Reply d =
        client.post(
            keyPath(ext, "decrypt"), decrypt(ciphertext, metadata, aad, iv, tag, "Decrypt"));
    assertThat(d.status()).as(d.body()).isEqualTo(200);
    assertThat(decoded(d, "plaintext")).isEqualTo(plaintext);
    assertThat(d.body()).doesNotContain("\n");
  }

  @Test
  void everyTamperedPart_isInvalidCiphertext() throws Exception {
    String ext = expose(newKey(), "ENCRYPT", "DECRYPT");
    byte[] aad = "project=nile".getBytes(StandardCharsets.UTF_8);
    XksTestClient.Reply e =
        client.post(keyPath(ext, "encrypt"), encrypt(random(64), aad, false, "Encrypt"));
    byte[] ct = decoded(e, "ciphertext");
    byte[] iv = decoded(e, "initializationVector");
    byte[] tag = decoded(e, "authenticationTag");
    byte[] md = decoded(e, "ciphertextMetadata");
    assertThat(e.json().has("ciphertextDataIntegrityValue")).isFalse();
    String path = keyPath(ext, "decrypt");

    assertThat(client.post(path, decrypt(ct, md, aad, iv, tag, "Decrypt")).status()).isEqualTo(200);
    for (String json :
        List.of(
            decrypt(flip(ct), md, aad, iv, tag, "Decrypt"),
            decrypt(ct, md, aad, flip(iv), tag, "Decrypt"),
            decrypt(ct, md, aad, iv, flip(tag), "Decrypt"),
            decrypt(ct, md, flip(aad), iv, tag, "Decrypt"),
            decrypt(ct, md, null, iv, tag, "Decrypt"),
            decrypt(ct, flip(md), aad, iv, tag, "Decrypt"),
            decrypt(ct, null, aad, iv, tag, "Decrypt"),
            decrypt(ct, md, aad, random(16), tag, "Decrypt"),
            decrypt(ct, md, aad, iv, new byte[8], "Decrypt"))) {
      XksTestClient.Reply r = client.post(path, json);
      assertThat(r.status()).as(json).isEqualTo(400);
      assertThat(r.errorName()).isEqualTo("InvalidCiphertextException");
    }
  }

  @Test
  void ciphertextOfARotatedKey_stillDecrypts_andNewOnesUseTheNewVersion() throws Exception {
    String keyId = newKey();
    String ext = expose(keyId, "ENCRYPT", "DECRYPT");
    byte[] plaintext = random(32);
    XksTestClient.Reply before =
        client.post(keyPath(ext, "encrypt"), encrypt(plaintext, null, false, "Encrypt"));

    admin.rotateKeyOnDemand(RotateKeyOnDemandRequest.newBuilder().setKeyId(keyId).build());

    XksTestClient.Reply after =
        client.post(keyPath(ext, "encrypt"), encrypt(plaintext, null, false, "Encrypt"));
    assertThat(decoded(after, "ciphertextMetadata"))
        .isNotEqualTo(decoded(before, "ciphertextMetadata"));
    for (XksTestClient.Reply e : List.of(before, after)) {
      XksTestClient.Reply d = client.post(keyPath(ext, "decrypt"), decryptOf(e, null));
      assertThat(d.status()).as(d.body()).isEqualTo(200);
      assertThat(decoded(d, "plaintext")).isEqualTo(plaintext);
    }
  }

  @Test
  void usages_areEnforced_andAnEncryptOnlyKeyCannotVouchForItsCiphertext() throws Exception {
    String encryptOnly = expose(newKey(), "ENCRYPT");
    String decryptOnly = expose(newKey(), "DECRYPT");

    XksTestClient.Reply e =
        client.post(keyPath(encryptOnly, "encrypt"), encrypt(random(8), null, false, "Encrypt"));
    assertThat(e.status()).isEqualTo(200);
    assertError(
        client.post(keyPath(encryptOnly, "decrypt"), decryptOf(e, null)),
        400,
        "InvalidKeyUsageException");
    assertError(
        client.post(
            keyPath(encryptOnly, "encrypt"), encrypt(random(8), null, true, "GenerateDataKey")),
        400,
        "InvalidKeyUsageException");
    assertError(
        client.post(keyPath(decryptOnly, "encrypt"), encrypt(random(8), null, false, "Encrypt")),
        400,
        "InvalidKeyUsageException");
  }

  @Test
  void disabledKey_isInvalidState_untilEnabledAgain() throws Exception {
    String keyId = newKey();
    String ext = expose(keyId, "ENCRYPT", "DECRYPT");
    XksTestClient.Reply e =
        client.post(keyPath(ext, "encrypt"), encrypt(random(8), null, false, "Encrypt"));

    admin.disableKey(DisableKeyRequest.newBuilder().setKeyId(keyId).build());
    assertError(
        client.post(keyPath(ext, "encrypt"), encrypt(random(8), null, false, "Encrypt")),
        400,
        "InvalidStateException");
    assertError(
        client.post(keyPath(ext, "decrypt"), decryptOf(e, null)), 400, "InvalidStateException");

    admin.enableKey(EnableKeyRequest.newBuilder().setKeyId(keyId).build());
    assertThat(client.post(keyPath(ext, "decrypt"), decryptOf(e, null)).status()).isEqualTo(200);
  }

  @Test
  void unknownExternalKey_isKeyNotFound() throws Exception {
    for (String op : List.of("metadata", "encrypt", "decrypt")) {
      String body =
          op.equals("decrypt")
              ? decrypt(random(4), random(17), null, random(12), random(16), "Decrypt")
              : encrypt(random(4), null, false, "Encrypt");
      assertError(client.post(keyPath("no-such-key", op), body), 404, "KeyNotFoundException");
    }
  }

  // --- Validation

  @Test
  void emptyBodyOrEmptyRequestMetadata_isValidation_onEveryEndpoint_healthIncluded()
      throws Exception {
    String ext = expose(newKey(), "ENCRYPT", "DECRYPT");
    for (String path :
        List.of(
            BASE + "/health",
            keyPath(ext, "metadata"),
            keyPath(ext, "encrypt"),
            keyPath(ext, "decrypt"))) {
      for (String body :
          List.of(
              "{}",
              "{\"requestMetadata\":{}}",
              "",
              "[]",
              "{\"requestMetadata\":{\"kmsRequestId\":\"r\"}}",
              "{\"requestMetadata\":{\"kmsRequestId\":1,\"kmsOperation\":\"x\"}}")) {
        assertError(client.post(path, body), 400, "ValidationException");
      }
    }
  }

  @Test
  void badParameters_areValidation_andOversizedOnes_unsupported() throws Exception {
    String ext = expose(newKey(), "ENCRYPT", "DECRYPT");
    String path = keyPath(ext, "encrypt");
    ObjectNode wrongAlgorithm = (ObjectNode) JSON.readTree(encrypt(random(8), null, false, "E"));
    wrongAlgorithm.put("encryptionAlgorithm", "AES_CBC");
    assertError(client.post(path, wrongAlgorithm.toString()), 400, "ValidationException");
    ObjectNode notBase64 = (ObjectNode) JSON.readTree(encrypt(random(8), null, false, "E"));
    notBase64.put("plaintext", "***");
    assertError(client.post(path, notBase64.toString()), 400, "ValidationException");
    ObjectNode wrongIntegrity = (ObjectNode) JSON.readTree(encrypt(random(8), null, true, "E"));
    wrongIntegrity.put("ciphertextDataIntegrityValueAlgorithm", "MD5");
    assertError(client.post(path, wrongIntegrity.toString()), 400, "ValidationException");
    ObjectNode noPlaintext = (ObjectNode) JSON.readTree(encrypt(random(8), null, false, "E"));
    noPlaintext.remove("plaintext");
    assertError(client.post(path, noPlaintext.toString()), 400, "ValidationException");
    assertError(
        client.post(path, encrypt(random(8), random(8193), false, "E")),
        501,
        "UnsupportedOperationException");
    assertError(
        client.post(path, encrypt(random(65_537), null, false, "E")),
        501,
        "UnsupportedOperationException");
    assertError(
        client.post(keyPath("bad%2Fid", "encrypt"), encrypt(random(8), null, false, "E")),
        400,
        "ValidationException");
  }

  @Test
  void unknownKmsOperation_isAccepted() throws Exception {
    String ext = expose(newKey(), "ENCRYPT", "DECRYPT");
    assertThat(
            client
                .post(keyPath(ext, "encrypt"), encrypt(random(8), null, false, "BulkEncrypt"))
                .status())
        .isEqualTo(200);
    assertThat(client.post(BASE + "/health", metadata(m -> {}, "SomethingNew")).status())
        .isEqualTo(200);
  }

  // --- Paths and methods

  @Test
  void correctlySignedCallToAWrongPrefix_isInvalidUriPath() throws Exception {
    String health = metadata(m -> {}, "KmsHealthCheck");
    assertError(client.post("/kms/xks/v1/health", health), 404, "InvalidUriPathException");
    assertError(
        client.post("/keystores/other/kms/xks/v1/health", health), 404, "InvalidUriPathException");
    assertError(client.post(BASE + "/keys/k/rotate", health), 404, "InvalidUriPathException");
    assertError(client.post(BASE + "/healthz", health), 404, "InvalidUriPathException");
  }

  @Test
  void anyMethodButPost_is405() throws Exception {
    for (String method : List.of("GET", "PUT", "DELETE")) {
      XksTestClient.Reply r = client.send(method, BASE + "/health", "", Instant.now(), true);
      assertThat(r.status()).as(method).isEqualTo(405);
      assertThat(r.json().path("errorName").asText()).isNotEmpty();
    }
  }

  @Test
  void moreRequestsInFlightThanAllowed_isThrottling() throws Exception {
    SecurityConfig dev = SecurityConfig.builder(server.auditFile()).devMode(true).build();
    try (XksFrontEnd one =
        XksFrontEnd.start(
            new XksConfig(
                0,
                "127.0.0.1",
                PREFIX,
                1,
                ListenerSecurity.ClientCertificates.NONE,
                1,
                Duration.ofSeconds(20),
                ""),
            dev,
            server.accessControl(),
            server.hsm(),
            credentials,
            Clock.systemUTC(),
            4)) {
      String health = metadata(m -> {}, "KmsHealthCheck");
      XksTestClient other =
          new XksTestClient("http://127.0.0.1:" + one.port(), KEY_ID_1, SECRET_1, "us-east-1");
      // A request whose body has not all come in yet holds the one place.
      java.net.Socket slow = slowRequest(one.port());
      try {
        XksTestClient.Reply r = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
          r = other.post(BASE + "/health", health);
          if (r.status() == 429) {
            break;
          }
          if (slow.getInputStream().available() > 0) {
            // It came in while a call of the other client held the place, and was answered (429)
            // itself: it is sent again.
            slow.close();
            slow = slowRequest(one.port());
          }
          Thread.sleep(50);
        }
        assertError(r, 429, "ThrottlingException");
        // Its body unread, the refused request's connection is not kept.
        assertThat(r.connection()).isEqualToIgnoringCase("close");
      } finally {
        slow.close();
      }
      // Once the slow one is gone, the place is free again.
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      int status = 0;
      while (System.nanoTime() < deadline && status != 200) {
        status = other.post(BASE + "/health", health).status();
        Thread.sleep(50);
      }
      assertThat(status).isEqualTo(200);
    }
  }

  /** A request to the health operation whose body has not all been sent: it waits for the rest. */
  private static java.net.Socket slowRequest(int port) throws Exception {
    java.net.Socket slow = new java.net.Socket("127.0.0.1", port);
    slow.getOutputStream()
        .write(
            ("POST "
                    + BASE
                    + "/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
                .getBytes(StandardCharsets.US_ASCII));
    slow.getOutputStream().flush();
    return slow;
  }

  // --- Authentication

  @Test
  void badSignature_staleOrFutureDate_unknownOrMissingCredentials_areAuthenticationFailed()
      throws Exception {
    String health = metadata(m -> {}, "KmsHealthCheck");
    String path = BASE + "/health";
    assertError(
        client.as(KEY_ID_1, SECRET_2).post(path, health), 401, "AuthenticationFailedException");
    assertError(
        client.post(path, health, Instant.now().minus(Duration.ofMinutes(6))),
        401,
        "AuthenticationFailedException");
    assertError(
        client.post(path, health, Instant.now().plus(Duration.ofMinutes(6))),
        401,
        "AuthenticationFailedException");
    assertError(
        client.as("AKIAUNKNOWNKEY2345AB", SECRET_1).post(path, health),
        401,
        "AuthenticationFailedException");
    assertError(client.postUnsigned(path, health), 401, "AuthenticationFailedException");
    // Within five minutes either way is fine.
    assertThat(client.post(path, health, Instant.now().minus(Duration.ofMinutes(4))).status())
        .isEqualTo(200);
  }

  @Test
  void twoCredentialSets_workAtOnce_forRotation() throws Exception {
    String health = metadata(m -> {}, "KmsHealthCheck");
    credentials.add(KEY_ID_2, SECRET_2, server.accessControl().caller(XKS_PRINCIPAL));
    try {
      assertThat(client.post(BASE + "/health", health).status()).isEqualTo(200);
      assertThat(client.as(KEY_ID_2, SECRET_2).post(BASE + "/health", health).status())
          .isEqualTo(200);
    } finally {
      credentials.remove(KEY_ID_2);
    }
    assertError(
        client.as(KEY_ID_2, SECRET_2).post(BASE + "/health", health),
        401,
        "AuthenticationFailedException");
  }

  @Test
  void curlWithAwsSigv4_asTheSpecificationsTroubleshootingSection_isServed() throws Exception {
    String ext = expose(newKey(), "ENCRYPT", "DECRYPT");
    java.nio.file.Path dir = Files.createTempDirectory("p11kms-xks-curl");
    try {
      java.nio.file.Path body = dir.resolve("encrypt.json");
      Files.writeString(
          body, encrypt("Hello World!".getBytes(StandardCharsets.UTF_8), null, true, "Encrypt"));
      java.nio.file.Path health = dir.resolve("health.json");
      Files.writeString(health, metadata(m -> {}, "KmsHealthCheck"));
      String base = "http://localhost:" + xks.port();

      JsonNode encrypted = JSON.readTree(curl(SECRET_1, body, base + keyPath(ext, "encrypt")));
      assertThat(encrypted.has("ciphertextDataIntegrityValue")).as(encrypted.toString()).isTrue();
      assertThat(
              JSON.readTree(curl(SECRET_1, health, base + BASE + "/health"))
                  .path("xksProxyVendor")
                  .asText())
          .isEqualTo("p11kms");
      assertThat(
              JSON.readTree(curl(SECRET_2, health, base + BASE + "/health"))
                  .path("errorName")
                  .asText())
          .isEqualTo("AuthenticationFailedException");
    } finally {
      TempDirs.deleteTree(dir);
    }
  }

  /** curl signs content-type;host;x-amz-date, the host with its port. */
  private static String curl(String secret, java.nio.file.Path body, String url) throws Exception {
    Process p;
    try {
      p =
          new ProcessBuilder(
                  "curl",
                  "-s",
                  "--aws-sigv4",
                  "aws:amz:us-east-1:kms-xks-proxy",
                  "--user",
                  KEY_ID_1 + ":" + secret,
                  "-X",
                  "POST",
                  "-H",
                  "Content-Type:application/json",
                  "--data",
                  "@" + body,
                  url)
              .redirectErrorStream(true)
              .start();
    } catch (java.io.IOException e) {
      org.junit.jupiter.api.Assumptions.assumeTrue(false, "curl is not installed");
      throw e;
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    return out;
  }

  // --- Authorisation and audit

  @Test
  void keyPolicy_onRequestMetadata_allowsOneKmsKeyArn_andTheAuditRecordsTheMetadata()
      throws Exception {
    String keyId = newKey();
    admin.putKeyPolicy(
        PutKeyPolicyRequest.newBuilder()
            .setKeyId(keyId)
            .setPolicy(
                """
                {"Statement":[
                  {"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"kms:*","Resource":"*"},
                  {"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"kms:XksGetKeyMetadata",
                   "Resource":"*"},
                  {"Effect":"Allow","Principal":{"AWS":"%s"},
                   "Action":["kms:XksEncrypt","kms:XksDecrypt"],"Resource":"*",
                   "Condition":{"StringEquals":{"xks:kmsKeyArn":"%s"}}}]}
                """
                    .formatted(ADMIN, XKS_PRINCIPAL, XKS_PRINCIPAL, KMS_KEY_ARN))
            .build());
    String ext = exposeOnly(keyId, "ENCRYPT", "DECRYPT");
    String requestId = "req-" + UUID.randomUUID();

    XksTestClient.Reply allowed =
        client.post(
            keyPath(ext, "encrypt"),
            body(
                m -> m.put("kmsKeyArn", KMS_KEY_ARN).put("kmsRequestId", requestId),
                "Encrypt",
                o ->
                    o.put("plaintext", B64.encodeToString(random(8)))
                        .put("encryptionAlgorithm", "AES_GCM")));
    assertThat(allowed.status()).as(allowed.body()).isEqualTo(200);
    String otherArn = KMS_KEY_ARN.replace("1234abcd", "9999abcd");
    XksTestClient.Reply denied =
        client.post(
            keyPath(ext, "encrypt"),
            body(
                m -> m.put("kmsKeyArn", otherArn).put("kmsRequestId", requestId + "-2"),
                "Encrypt",
                o ->
                    o.put("plaintext", B64.encodeToString(random(8)))
                        .put("encryptionAlgorithm", "AES_GCM")));
    assertError(denied, 403, "AccessDeniedException");
    assertThat(client.post(keyPath(ext, "metadata"), metadata(m -> {}, "DescribeKey")).status())
        .isEqualTo(200);

    List<JsonNode> records = auditRecords();
    JsonNode ok = findRecord(records, requestId);
    assertThat(ok.path("operation").asText()).isEqualTo("XksEncrypt");
    assertThat(ok.path("principal").asText()).isEqualTo(XKS_PRINCIPAL);
    assertThat(ok.path("outcome").asText()).isEqualTo("SUCCEEDED");
    assertThat(ok.path("keyArn").asText()).endsWith(keyId);
    JsonNode m = ok.path("requestMetadata");
    assertThat(m.path("kmsKeyArn").asText()).isEqualTo(KMS_KEY_ARN);
    assertThat(m.path("awsPrincipalArn").asText())
        .isEqualTo("arn:aws:iam::123456789012:user/Alice");
    assertThat(m.path("kmsOperation").asText()).isEqualTo("Encrypt");
    assertThat(m.path("kmsViaService").asText()).isEqualTo("ebs");
    JsonNode no = findRecord(records, requestId + "-2");
    assertThat(no.path("outcome").asText()).isEqualTo("DENIED");
    assertThat(no.path("error").asText()).isEqualTo("AccessDeniedException");
    // Neither record holds the plaintext or the ciphertext.
    assertThat(ok.toString()).doesNotContain("plaintext").doesNotContain("ciphertext\"");
  }

  @Test
  void refusedRequests_areAudited_withTheAuthenticationError() throws Exception {
    String requestId = "unauth-" + UUID.randomUUID();
    client
        .as(KEY_ID_1, SECRET_2)
        .post(BASE + "/health", metadata(m -> m.put("kmsRequestId", requestId), "KmsHealthCheck"));
    List<JsonNode> records = auditRecords();
    JsonNode last = records.get(records.size() - 1);
    assertThat(last.path("operation").asText()).isEqualTo("XksGetHealthStatus");
    assertThat(last.path("outcome").asText()).isEqualTo("FAILED");
    assertThat(last.path("error").asText()).isEqualTo("AuthenticationFailedException");
    assertThat(last.path("principal").asText()).contains(KEY_ID_1);
  }

  // --- helpers

  private static String newKey() {
    return admin.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
  }

  /** Exposes {@code keyId} under a new external key id and lets the XKS principal use it. */
  private static String expose(String keyId, String... usages) {
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
    return exposeOnly(keyId, usages);
  }

  /** Exposes {@code keyId} under a new external key id, its policy as it is. */
  private static String exposeOnly(String keyId, String... usages) {
    String ext = "ext-" + UUID.randomUUID();
    exposures.expose(keyId, ext, Set.of(usages));
    return ext;
  }

  private static String keyPath(String ext, String op) {
    return BASE + "/keys/" + ext + "/" + op;
  }

  private static String metadata(Consumer<ObjectNode> metadata, String kmsOperation) {
    return body(metadata, kmsOperation, o -> {});
  }

  /** A body with a full requestMetadata (changed by {@code metadata}) and the fields given. */
  private static String body(
      Consumer<ObjectNode> metadata, String kmsOperation, Consumer<ObjectNode> fields) {
    ObjectNode root = JSON.createObjectNode();
    ObjectNode m = root.putObject("requestMetadata");
    m.put("awsPrincipalArn", "arn:aws:iam::123456789012:user/Alice");
    m.put("kmsKeyArn", KMS_KEY_ARN);
    m.put("kmsOperation", kmsOperation);
    m.put("kmsRequestId", UUID.randomUUID().toString());
    m.put("kmsViaService", "ebs");
    metadata.accept(m);
    fields.accept(root);
    return root.toString();
  }

  private static String encrypt(byte[] plaintext, byte[] aad, boolean integrity, String op) {
    return body(
        m -> {},
        op,
        o -> {
          o.put("plaintext", B64.encodeToString(plaintext));
          o.put("encryptionAlgorithm", "AES_GCM");
          if (aad != null) {
            o.put("additionalAuthenticatedData", B64.encodeToString(aad));
          }
          if (integrity) {
            o.put("ciphertextDataIntegrityValueAlgorithm", "SHA_256");
          }
        });
  }

  private static String decrypt(
      byte[] ciphertext, byte[] metadata, byte[] aad, byte[] iv, byte[] tag, String op) {
    return body(
        m -> {},
        op,
        o -> {
          o.put("ciphertext", B64.encodeToString(ciphertext));
          if (metadata != null) {
            o.put("ciphertextMetadata", B64.encodeToString(metadata));
          }
          o.put("encryptionAlgorithm", "AES_GCM");
          if (aad != null) {
            o.put("additionalAuthenticatedData", B64.encodeToString(aad));
          }
          o.put("initializationVector", B64.encodeToString(iv));
          o.put("authenticationTag", B64.encodeToString(tag));
        });
  }

  private static String decryptOf(XksTestClient.Reply encrypted, byte[] aad) {
    return decrypt(
        decoded(encrypted, "ciphertext"),
        decoded(encrypted, "ciphertextMetadata"),
        aad,
        decoded(encrypted, "initializationVector"),
        decoded(encrypted, "authenticationTag"),
        "Decrypt");
  }

  private static byte[] decoded(XksTestClient.Reply r, String field) {
    assertThat(r.json().has(field)).as(r.body()).isTrue();
    return Base64.getDecoder().decode(r.json().path(field).asText());
  }

  private static void assertError(XksTestClient.Reply r, int status, String errorName) {
    assertThat(r.status()).as(r.body()).isEqualTo(status);
    assertThat(r.errorName()).as(r.body()).isEqualTo(errorName);
    assertThat(r.body()).doesNotContain("\n").doesNotContain("Exception:").doesNotContain("\tat ");
    List<String> fields = new java.util.ArrayList<>();
    r.json().fieldNames().forEachRemaining(fields::add);
    assertThat(fields).containsExactly("errorName", "errorMessage");
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    new SecureRandom().nextBytes(b);
    return b;
  }

  private static byte[] flip(byte[] b) {
    byte[] c = b.clone();
    c[c.length / 2] ^= 0x01;
    return c;
  }

  private static List<JsonNode> auditRecords() throws Exception {
    return server.auditRecords();
  }

  private static JsonNode findRecord(List<JsonNode> records, String kmsRequestId) {
    return records.stream()
        .filter(r -> r.path("requestMetadata").path("kmsRequestId").asText().equals(kmsRequestId))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no audit record for " + kmsRequestId));
  }
}
