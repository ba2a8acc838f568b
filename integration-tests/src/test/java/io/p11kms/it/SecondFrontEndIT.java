package io.p11kms.it;

import static io.p11kms.it.KmsSecureTestServer.ADMIN;
import static io.p11kms.it.KmsSecureTestServer.BOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.grpc.StatusRuntimeException;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.DescribeKeyRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.server.service.Ciphertext;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.service.Operation;
import io.p11kms.server.service.Plaintext;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A second front end ({@link PlainFrontEnd}, plain Java values straight into the service's access
 * control) gets what gRPC gets for the same requests: the same results, AccessDenied, validation
 * and service errors (AWS name and message), and the same audit record.
 */
class SecondFrontEndIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, String> CONTEXT = Map.of("dept", "pay", "app", "ledger");

  private static KmsSecureTestServer server;
  private static KeyManagementServiceBlockingStub admin;
  private static KeyManagementServiceBlockingStub bob;
  private static PlainFrontEnd plain;

  @BeforeAll
  static void start() throws Exception {
    server = KmsSecureTestServer.start();
    admin = server.client(ADMIN);
    bob = server.client(BOB);
    plain =
        new PlainFrontEnd(server.accessControl(), server.hsm(), server.store(), KmsTestServer.ARNS);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void sameRequests_sameOutcomes_sameAuditRecords() throws Exception {
    String key = admin.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
    byte[] data = "same either way".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    int before = requestRecords().size();

    // Success: encrypt on each front end, decrypt each ciphertext on the other.
    ByteString viaGrpc = admin.encrypt(encrypt(key, data, CONTEXT, List.of())).getCiphertextBlob();
    Ciphertext viaPlain =
        (Ciphertext)
            plain.call(
                ADMIN,
                Operation.ENCRYPT,
                new PlainFrontEnd.Request(key, data, null, CONTEXT, List.of()));
    assertThat(
            admin
                .decrypt(
                    DecryptRequest.newBuilder()
                        .setCiphertextBlob(ByteString.copyFrom(viaPlain.blob()))
                        .putAllEncryptionContext(CONTEXT)
                        .build())
                .getPlaintext()
                .toByteArray())
        .isEqualTo(data);
    Plaintext opened =
        (Plaintext)
            plain.call(
                ADMIN,
                Operation.DECRYPT,
                new PlainFrontEnd.Request("", null, viaGrpc.toByteArray(), CONTEXT, List.of()));
    assertThat(opened.bytes()).isEqualTo(data);

    // Failures, each sent through both: denied, validation before any key is read, bad
    // ciphertext, unknown key.
    sameFailure(
        "AccessDeniedException",
        () -> bob.encrypt(encrypt(key, data, CONTEXT, List.of())),
        () ->
            plain.call(
                BOB,
                Operation.ENCRYPT,
                new PlainFrontEnd.Request(key, data, null, CONTEXT, List.of())));
    List<String> tooMany = Collections.nCopies(11, "t");
    sameFailure(
        "ValidationException",
        () -> admin.encrypt(encrypt(key, data, CONTEXT, tooMany)),
        () ->
            plain.call(
                ADMIN,
                Operation.ENCRYPT,
                new PlainFrontEnd.Request(key, data, null, CONTEXT, tooMany)));
    Map<String, String> wrong = Map.of("dept", "other");
    sameFailure(
        "InvalidCiphertextException",
        () ->
            admin.decrypt(
                DecryptRequest.newBuilder()
                    .setCiphertextBlob(viaGrpc)
                    .putAllEncryptionContext(wrong)
                    .build()),
        () ->
            plain.call(
                ADMIN,
                Operation.DECRYPT,
                new PlainFrontEnd.Request("", null, viaGrpc.toByteArray(), wrong, List.of())));
    String unknown = UUID.randomUUID().toString();
    sameFailure(
        "NotFoundException",
        () -> admin.describeKey(DescribeKeyRequest.newBuilder().setKeyId(unknown).build()),
        () ->
            plain.call(
                ADMIN,
                Operation.DESCRIBE_KEY,
                new PlainFrontEnd.Request(unknown, null, null, Map.of(), List.of())));

    // Records in pairs, gRPC then plain: equal but for their request ids and times.
    List<JsonNode> records = requestRecords().subList(before, requestRecords().size());
    assertThat(records).hasSize(12);
    for (int i = 0; i < records.size(); i += 2) {
      assertThat(comparable(records.get(i + 1))).isEqualTo(comparable(records.get(i)));
    }
    assertThat(records)
        .extracting(r -> r.path("outcome").asText())
        .containsExactly(
            "SUCCEEDED",
            "SUCCEEDED",
            "SUCCEEDED",
            "SUCCEEDED",
            "DENIED",
            "DENIED",
            "FAILED",
            "FAILED",
            "FAILED",
            "FAILED",
            "FAILED",
            "FAILED");
    assertThat(records.get(0).path("contextKeys").toString()).isEqualTo("[\"app\",\"dept\"]");
  }

  private static void sameFailure(String awsName, Runnable grpc, Runnable direct) {
    StatusRuntimeException wire = catchThrowableOfType(StatusRuntimeException.class, grpc::run);
    KmsException service = catchThrowableOfType(KmsException.class, direct::run);
    assertThat(wire).as("gRPC " + awsName).isNotNull();
    assertThat(service).as("plain " + awsName).isNotNull();
    assertThat(service.error().awsName()).isEqualTo(awsName);
    assertThat(wire.getStatus().getDescription()).isEqualTo(awsName + ": " + service.getMessage());
  }

  private static EncryptRequest encrypt(
      String key, byte[] data, Map<String, String> context, List<String> grantTokens) {
    return EncryptRequest.newBuilder()
        .setKeyId(key)
        .setPlaintext(ByteString.copyFrom(data))
        .putAllEncryptionContext(context)
        .addAllGrantTokens(grantTokens)
        .build();
  }

  private static List<JsonNode> requestRecords() throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(server.auditFile())) {
      JsonNode r = JSON.readTree(line);
      if (r.path("type").asText().equals("request")) {
        out.add(r);
      }
    }
    return out;
  }

  private static String comparable(JsonNode record) {
    return record.path("principal").asText()
        + " "
        + record.path("operation").asText()
        + " "
        + record.path("keyArn").asText()
        + " "
        + record.path("contextKeys")
        + " "
        + record.path("outcome").asText()
        + " "
        + record.path("error").asText();
  }
}
