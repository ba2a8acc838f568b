package io.p11kms.it;

import static io.p11kms.it.KmsSecureTestServer.ADMIN;
import static io.p11kms.it.KmsSecureTestServer.ALICE;
import static io.p11kms.it.KmsSecureTestServer.AUDIT_KEY;
import static io.p11kms.it.KmsSecureTestServer.BOB;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.DescribeKeyRequest;
import io.p11kms.proto.v1.DisableKeyRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.server.audit.AuditVerifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The audit log of a real server: one record per request, allowed, denied or failed, with no
 * plaintext; and a request whose record cannot be written fails before it has any effect.
 */
class AuditLogIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void everyRequest_allowedDeniedOrFailed_isRecorded_withoutPlaintext() throws Exception {
    try (KmsSecureTestServer server = KmsSecureTestServer.start()) {
      KeyManagementServiceBlockingStub admin = server.client(ADMIN);
      KeyManagementServiceBlockingStub alice = server.client(ALICE);
      KeyManagementServiceBlockingStub bob = server.client(BOB);
      String policy =
          """
          {"Statement":[
            {"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"kms:*","Resource":"*"},
            {"Effect":"Allow","Principal":{"AWS":"%s"},"Action":["kms:Encrypt","kms:Decrypt"],
             "Resource":"*"}]}
          """
              .formatted(ADMIN, ALICE);
      var key =
          admin.createKey(CreateKeyRequest.newBuilder().setPolicy(policy).build()).getKeyMetadata();
      String secret = "plaintext-" + UUID.randomUUID();
      String contextValue = "context-value-" + UUID.randomUUID();
      ByteString ct =
          alice
              .encrypt(
                  EncryptRequest.newBuilder()
                      .setKeyId(key.getKeyId())
                      .setPlaintext(ByteString.copyFromUtf8(secret))
                      .putEncryptionContext("dept", contextValue)
                      .build())
              .getCiphertextBlob();
      AtomicReference<Metadata> decryptHeaders = new AtomicReference<>();
      alice
          .withInterceptors(
              MetadataUtils.newCaptureMetadataInterceptor(decryptHeaders, new AtomicReference<>()))
          .decrypt(
              DecryptRequest.newBuilder()
                  .setCiphertextBlob(ct)
                  .putEncryptionContext("dept", contextValue)
                  .build());
      Rpc.assertFails(
          () ->
              bob.encrypt(
                  EncryptRequest.newBuilder()
                      .setKeyId(key.getKeyId())
                      .setPlaintext(ByteString.copyFromUtf8(secret))
                      .build()),
          Status.Code.PERMISSION_DENIED,
          "AccessDeniedException");
      Rpc.assertFails(
          () ->
              alice.decrypt(
                  DecryptRequest.newBuilder()
                      .setCiphertextBlob(ct)
                      .putEncryptionContext("dept", "wrong")
                      .build()),
          Status.Code.INVALID_ARGUMENT,
          "InvalidCiphertextException");
      Rpc.assertFails(
          () ->
              admin.describeKey(
                  DescribeKeyRequest.newBuilder().setKeyId(UUID.randomUUID().toString()).build()),
          Status.Code.NOT_FOUND,
          "NotFoundException");

      List<JsonNode> requests = new ArrayList<>();
      String text = Files.readString(server.auditFile());
      for (String line : text.split("\n")) {
        JsonNode r = JSON.readTree(line);
        if (r.path("type").asText().equals("request")) {
          requests.add(r);
        }
      }
      assertThat(requests)
          .extracting(
              r ->
                  r.path("principal").asText()
                      + " "
                      + r.path("operation").asText()
                      + " "
                      + r.path("outcome").asText()
                      + " "
                      + r.path("error").asText())
          .containsExactly(
              ADMIN + " CreateKey SUCCEEDED ",
              ALICE + " Encrypt SUCCEEDED ",
              ALICE + " Decrypt SUCCEEDED ",
              BOB + " Encrypt DENIED AccessDeniedException",
              ALICE + " Decrypt FAILED InvalidCiphertextException",
              ADMIN + " DescribeKey FAILED NotFoundException");
      for (JsonNode r : requests.subList(0, 5)) {
        assertThat(r.path("keyArn").asText()).as(r.toString()).isEqualTo(key.getArn());
        assertThat(r.path("requestId").asText()).isNotEmpty();
        assertThat(r.path("time").asText()).isNotEmpty();
      }
      assertThat(requests.get(1).path("contextKeys").toString()).isEqualTo("[\"dept\"]");
      // The id the client got back is the audit record's: one id per call.
      assertThat(requests.get(2).path("requestId").asText())
          .isEqualTo(
              decryptHeaders
                  .get()
                  .get(Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER)));
      byte[] plain = secret.getBytes(StandardCharsets.UTF_8);
      assertThat(text)
          .doesNotContain(secret)
          .doesNotContain(contextValue)
          .doesNotContain(Base64.getEncoder().encodeToString(plain))
          .doesNotContain(HexFormat.of().formatHex(plain))
          .doesNotContain(Base64.getEncoder().encodeToString(ct.toByteArray()));

      List<String> lines = Files.readAllLines(server.auditFile());
      AuditVerifier.Result result =
          AuditVerifier.verify(lines, (data, mac) -> server.hsm().verify(AUDIT_KEY, data, mac));
      assertThat(result.ok()).as(result.toString()).isTrue();
      assertThat(result.checkpoints()).isGreaterThanOrEqualTo(1);
    }
  }

  @Test
  void logDeleted_andTheServerRestarted_theNewLogChainsToTheAnchor() throws Exception {
    try (KmsSecureTestServer server = KmsSecureTestServer.start()) {
      makeRequests(server, 7);
      server.stopServer();
      List<String> before = Files.readAllLines(server.auditFile());
      String last = before.get(before.size() - 1);
      assertThat(last).contains("\"type\":\"checkpoint\"");
      Path old = Files.move(server.auditFile(), server.auditFile().resolveSibling("old.log"));

      server.restartServer();
      makeRequests(server, 2);

      JsonNode first = JSON.readTree(Files.readAllLines(server.auditFile()).get(0));
      long anchored = JSON.readTree(last).path("seq").asLong();
      assertThat(first.path("type").asText()).isEqualTo("start");
      assertThat(first.path("seq").asLong()).isEqualTo(anchored + 1);
      assertThat(first.path("anchor").path("seq").asLong()).isEqualTo(anchored);
      Verified alone = verify(server, server.auditFile());
      assertThat(alone.exit()).as(alone.out()).isEqualTo(1);
      assertThat(alone.out())
          .contains(
              "TAMPERED at line 1: the log begins at record "
                  + (anchored + 1)
                  + ", after checkpoint "
                  + anchored
                  + " of an earlier log: records 1-"
                  + anchored
                  + " are missing");
      Verified both = verify(server, old, server.auditFile());
      assertThat(both.exit()).as(both.out()).isZero();
    }
  }

  @Test
  void logCutBackAtACheckpoint_andTheServerRestarted_theGapIsNamed() throws Exception {
    try (KmsSecureTestServer server = KmsSecureTestServer.start()) {
      makeRequests(server, 12);
      server.stopServer();
      List<String> lines = Files.readAllLines(server.auditFile());
      long anchored = JSON.readTree(lines.get(lines.size() - 1)).path("seq").asLong();
      int cut = -1;
      for (int i = 0; i < lines.size() && cut < 0; i++) {
        if (lines.get(i).contains("\"type\":\"checkpoint\"")) {
          cut = i;
        }
      }
      Files.write(server.auditFile(), lines.subList(0, cut + 1));
      long cutAt = JSON.readTree(lines.get(cut)).path("seq").asLong();

      server.restartServer();
      makeRequests(server, 1);

      Verified run = verify(server, server.auditFile());
      assertThat(run.exit()).as(run.out()).isEqualTo(1);
      assertThat(run.out())
          .contains(
              "TAMPERED at line "
                  + (cut + 2)
                  + ": records "
                  + (cutAt + 1)
                  + "-"
                  + anchored
                  + " are missing: when the server restarted here the log ended at record "
                  + cutAt
                  + " but the token's anchor was checkpoint "
                  + anchored);
    }
  }

  /** {@code n} requests that the administrator makes, each one audited. */
  private static void makeRequests(KmsSecureTestServer server, int n) throws Exception {
    KeyManagementServiceBlockingStub admin = server.client(ADMIN);
    for (int i = 0; i < n; i++) {
      admin.createKey(CreateKeyRequest.getDefaultInstance());
    }
  }

  record Verified(int exit, String out) {}

  /**
   * {@code p11kms verify-audit} on {@code files}, as one chain, with the server's token session.
   */
  private static Verified verify(KmsSecureTestServer server, Path... files) {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    java.io.PrintStream out = new java.io.PrintStream(bytes, true, StandardCharsets.UTF_8);
    int exit =
        io.p11kms.server.admin.VerifyAuditCommand.verify(
            List.of(files), server.hsm(), AUDIT_KEY, out, out);
    String text = bytes.toString(StandardCharsets.UTF_8);
    System.out.print("AuditLogIT: " + text);
    return new Verified(exit, text);
  }

  @Test
  void auditLogRemoved_requestFailsInternal_beforeItHasAnyEffect() throws Exception {
    try (KmsSecureTestServer server = KmsSecureTestServer.start()) {
      KeyManagementServiceBlockingStub admin = server.client(ADMIN);
      String keyId =
          admin.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
      int keysBefore = count(server.database(), "SELECT COUNT(*) FROM keys");

      Path dir = server.auditFile().getParent();
      Files.delete(server.auditFile());
      Files.delete(dir);

      Rpc.assertFails(
          () -> admin.disableKey(DisableKeyRequest.newBuilder().setKeyId(keyId).build()),
          Status.Code.INTERNAL,
          "KMSInternalException");
      Rpc.assertFails(
          () -> admin.createKey(CreateKeyRequest.getDefaultInstance()),
          Status.Code.INTERNAL,
          "KMSInternalException");
      Rpc.assertFails(
          () ->
              admin.encrypt(
                  EncryptRequest.newBuilder()
                      .setKeyId(keyId)
                      .setPlaintext(ByteString.copyFromUtf8("unaudited"))
                      .build()),
          Status.Code.INTERNAL,
          "KMSInternalException");
      // A denied call is not let through either.
      Rpc.assertFails(
          () ->
              server.client(BOB).disableKey(DisableKeyRequest.newBuilder().setKeyId(keyId).build()),
          Status.Code.INTERNAL,
          "KMSInternalException");

      // The design: the log is checked before the handler runs, so nothing happened.
      assertThat(count(server.database(), "SELECT COUNT(*) FROM keys")).isEqualTo(keysBefore);
      assertThat(
              count(
                  server.database(),
                  "SELECT COUNT(*) FROM keys WHERE key_id = '"
                      + keyId
                      + "' AND key_state = 'ENABLED'"))
          .isEqualTo(1);
      // A directory put back is not the log the server opened: still refused until a restart.
      Files.createDirectories(dir);
      Files.writeString(server.auditFile(), "");
      Rpc.assertFails(
          () -> admin.disableKey(DisableKeyRequest.newBuilder().setKeyId(keyId).build()),
          Status.Code.INTERNAL,
          "KMSInternalException");
    }
  }

  private static int count(Path database, String sql) throws Exception {
    try (var c = DriverManager.getConnection("jdbc:sqlite:" + database);
        var s = c.createStatement();
        var r = s.executeQuery(sql)) {
      r.next();
      return r.getInt(1);
    }
  }
}
