package io.p11kms.it;

import static io.p11kms.it.KmsSecureTestServer.ADMIN;
import static io.p11kms.it.KmsSecureTestServer.ALICE;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import io.p11kms.proto.v1.BatchDecryptRequest;
import io.p11kms.proto.v1.BatchDecryptResponse;
import io.p11kms.proto.v1.BatchDecryptResult;
import io.p11kms.proto.v1.BatchEncryptRequest;
import io.p11kms.proto.v1.BatchEncryptResponse;
import io.p11kms.proto.v1.BatchEncryptResult;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.DisableKeyRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.KeyMetadata;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * BatchEncrypt and BatchDecrypt on a real server with principals, policies and the audit log: each
 * item gets its own result or the error its single call would get, each is authorised and audited
 * on its own, batch and single calls read each other's ciphertexts, and a call of no item or of
 * more than 100 is refused whole.
 */
class BatchIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static KmsSecureTestServer server;
  private static KeyManagementServiceBlockingStub admin;
  private static KeyManagementServiceBlockingStub alice;
  private static KeyMetadata shared;
  private static KeyMetadata adminOnly;
  private static KeyMetadata disabled;

  @BeforeAll
  static void startServer() throws Exception {
    server = KmsSecureTestServer.start();
    admin = server.client(ADMIN);
    alice = server.client(ALICE);
    String policy =
        """
        {"Statement":[
          {"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"kms:*","Resource":"*"},
          {"Effect":"Allow","Principal":{"AWS":"%s"},"Action":["kms:Encrypt","kms:Decrypt"],
           "Resource":"*"}]}
        """
            .formatted(ADMIN, ALICE);
    shared = create(policy);
    adminOnly = admin.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata();
    disabled = create(policy);
    admin.disableKey(DisableKeyRequest.newBuilder().setKeyId(disabled.getKeyId()).build());
  }

  private static KeyMetadata create(String policy) {
    return admin
        .createKey(CreateKeyRequest.newBuilder().setPolicy(policy).build())
        .getKeyMetadata();
  }

  @AfterAll
  static void stopServer() throws Exception {
    server.close();
  }

  private static EncryptRequest encrypt(String keyId, String plaintext, String dept) {
    EncryptRequest.Builder b =
        EncryptRequest.newBuilder()
            .setKeyId(keyId)
            .setPlaintext(ByteString.copyFromUtf8(plaintext));
    if (dept != null) {
      b.putEncryptionContext("dept", dept);
    }
    return b.build();
  }

  @Test
  void batchEncrypt_goodAndBadItems_eachGetItsResult_andBatchCiphertextsDecryptThroughDecrypt()
      throws Exception {
    List<EncryptRequest> items =
        List.of(
            encrypt(shared.getKeyId(), "first", "sales"),
            encrypt(adminOnly.getKeyId(), "not alice's key", null),
            encrypt(UUID.randomUUID().toString(), "no such key", null),
            encrypt(disabled.getKeyId(), "disabled key", null),
            EncryptRequest.newBuilder()
                .setKeyId(shared.getKeyId())
                .setPlaintext(ByteString.copyFrom(new byte[4097]))
                .build(),
            encrypt(shared.getArn(), "last", null));

    AtomicReference<Metadata> headers = new AtomicReference<>();
    BatchEncryptResponse response =
        alice
            .withInterceptors(
                MetadataUtils.newCaptureMetadataInterceptor(headers, new AtomicReference<>()))
            .batchEncrypt(BatchEncryptRequest.newBuilder().addAllItems(items).build());
    String requestId =
        headers.get().get(Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER));
    assertThat(requestId).isNotEmpty();

    assertThat(response.getResultsList())
        .extracting(r -> r.hasError() ? r.getError().getErrorCode() : "ok")
        .containsExactly(
            "ok",
            "AccessDeniedException",
            "NotFoundException",
            "DisabledException",
            "ValidationException",
            "ok");
    for (BatchEncryptResult r : response.getResultsList()) {
      if (r.hasError()) {
        assertThat(r.getError().getMessage()).isNotEmpty().doesNotContain("\tat ", ".java:");
      } else {
        assertThat(r.getResponse().getKeyId()).isEqualTo(shared.getArn());
      }
    }
    assertThat(
            alice
                .decrypt(
                    DecryptRequest.newBuilder()
                        .setCiphertextBlob(response.getResults(0).getResponse().getCiphertextBlob())
                        .putEncryptionContext("dept", "sales")
                        .build())
                .getPlaintext()
                .toStringUtf8())
        .isEqualTo("first");
    assertThat(
            alice
                .decrypt(
                    DecryptRequest.newBuilder()
                        .setCiphertextBlob(response.getResults(5).getResponse().getCiphertextBlob())
                        .build())
                .getPlaintext()
                .toStringUtf8())
        .isEqualTo("last");

    // One record per item, as its single call would have, under the call's request id.
    List<String> records = new ArrayList<>();
    for (String line : Files.readAllLines(server.auditFile())) {
      JsonNode r = JSON.readTree(line);
      if (r.path("requestId").asText().equals(requestId)
          || r.path("requestId").asText().startsWith(requestId + "/")) {
        records.add(
            r.path("requestId").asText().substring(requestId.length())
                + " "
                + r.path("principal").asText()
                + " "
                + r.path("operation").asText()
                + " "
                + r.path("keyArn").asText()
                + " "
                + r.path("outcome").asText()
                + " "
                + r.path("error").asText());
      }
    }
    assertThat(records)
        .containsExactly(
            "/0 " + ALICE + " BatchEncrypt " + shared.getArn() + " SUCCEEDED ",
            "/1 " + ALICE + " BatchEncrypt " + adminOnly.getArn() + " DENIED AccessDeniedException",
            "/2 " + ALICE + " BatchEncrypt  FAILED NotFoundException",
            "/3 " + ALICE + " BatchEncrypt " + disabled.getArn() + " FAILED DisabledException",
            "/4 " + ALICE + " BatchEncrypt " + shared.getArn() + " FAILED ValidationException",
            "/5 " + ALICE + " BatchEncrypt " + shared.getArn() + " SUCCEEDED ",
            " " + ALICE + " BatchEncrypt  SUCCEEDED ");
  }

  @Test
  void batchDecrypt_readsSingleCallCiphertexts_andFailsOnlyTheBadItems() {
    ByteString sales =
        alice.encrypt(encrypt(shared.getKeyId(), "for sales", "sales")).getCiphertextBlob();
    ByteString notAlices =
        admin.encrypt(encrypt(adminOnly.getKeyId(), "admin's", null)).getCiphertextBlob();
    byte[] tampered = sales.toByteArray();
    tampered[tampered.length - 1] ^= 1;

    BatchDecryptResponse response =
        alice.batchDecrypt(
            BatchDecryptRequest.newBuilder()
                .addItems(decrypt(sales, "sales"))
                .addItems(decrypt(sales, "marketing"))
                .addItems(decrypt(ByteString.copyFrom(tampered), "sales"))
                .addItems(decrypt(notAlices, null))
                .addItems(decrypt(ByteString.copyFromUtf8("not a ciphertext"), null))
                .addItems(decrypt(sales, "sales"))
                .build());

    assertThat(response.getResultsList())
        .extracting(
            r ->
                r.hasError()
                    ? r.getError().getErrorCode()
                    : r.getResponse().getPlaintext().toStringUtf8())
        .containsExactly(
            "for sales",
            "InvalidCiphertextException",
            "InvalidCiphertextException",
            "AccessDeniedException",
            "InvalidCiphertextException",
            "for sales");
    BatchDecryptResult first = response.getResults(0);
    assertThat(first.getResponse().getKeyId()).isEqualTo(shared.getArn());
  }

  private static DecryptRequest decrypt(ByteString blob, String dept) {
    DecryptRequest.Builder b = DecryptRequest.newBuilder().setCiphertextBlob(blob);
    if (dept != null) {
      b.putEncryptionContext("dept", dept);
    }
    return b.build();
  }

  @Test
  void aCallOfNoItemOrOfMoreThan100_isRefusedWhole_and100ItemsAreServed() {
    BatchEncryptRequest.Builder hundred = BatchEncryptRequest.newBuilder();
    BatchDecryptRequest.Builder hundredBlobs = BatchDecryptRequest.newBuilder();
    for (int i = 0; i < 100; i++) {
      hundred.addItems(encrypt(shared.getKeyId(), "item " + i, null));
    }
    BatchEncryptResponse served = alice.batchEncrypt(hundred.build());
    assertThat(served.getResultsList()).hasSize(100).allMatch(BatchEncryptResult::hasResponse);
    for (BatchEncryptResult r : served.getResultsList()) {
      hundredBlobs.addItems(decrypt(r.getResponse().getCiphertextBlob(), null));
    }
    BatchDecryptResponse opened = alice.batchDecrypt(hundredBlobs.build());
    for (int i = 0; i < 100; i++) {
      assertThat(opened.getResults(i).getResponse().getPlaintext().toStringUtf8())
          .isEqualTo("item " + i);
    }

    BatchEncryptRequest tooMany =
        hundred.addItems(encrypt(shared.getKeyId(), "one too many", null)).build();
    Rpc.assertFails(
        () -> alice.batchEncrypt(tooMany), Status.Code.INVALID_ARGUMENT, "ValidationException");
    Rpc.assertFails(
        () -> alice.batchEncrypt(BatchEncryptRequest.getDefaultInstance()),
        Status.Code.INVALID_ARGUMENT,
        "ValidationException");
    BatchDecryptRequest tooManyBlobs = hundredBlobs.addItems(hundredBlobs.getItems(0)).build();
    Rpc.assertFails(
        () -> alice.batchDecrypt(tooManyBlobs),
        Status.Code.INVALID_ARGUMENT,
        "ValidationException");
    Rpc.assertFails(
        () -> alice.batchDecrypt(BatchDecryptRequest.getDefaultInstance()),
        Status.Code.INVALID_ARGUMENT,
        "ValidationException");
  }
}
