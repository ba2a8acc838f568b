package io.p11kms.it;

import static io.p11kms.it.KmsSecureTestServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.p11kms.proto.v1.BatchEncryptRequest;
import io.p11kms.proto.v1.BatchEncryptResponse;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * GrantTokens within AWS's limits (at most 10, each 1-8192 characters) pass; beyond them the call
 * is refused with ValidationException before it reaches the token, and the refusal is audited.
 */
class GrantTokensIT {

  @Test
  void elevenOrEmptyOrTooLong_areValidationBeforeTheToken_tenOfFullLengthPass() throws Exception {
    try (KmsSecureTestServer server = KmsSecureTestServer.start()) {
      KeyManagementServiceBlockingStub admin = server.client(ADMIN);
      String keyId =
          admin.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
      EncryptRequest.Builder request =
          EncryptRequest.newBuilder().setKeyId(keyId).setPlaintext(ByteString.copyFromUtf8("x"));

      for (int i = 0; i < 11; i++) {
        request.addGrantTokens("token-" + i);
      }
      refusedBeforeTheToken(server, () -> admin.encrypt(request.build()));
      request.clearGrantTokens().addGrantTokens("");
      refusedBeforeTheToken(server, () -> admin.encrypt(request.build()));
      request.clearGrantTokens().addGrantTokens("t".repeat(8193));
      refusedBeforeTheToken(server, () -> admin.encrypt(request.build()));

      request.clearGrantTokens();
      for (int i = 0; i < 10; i++) {
        request.addGrantTokens("t".repeat(8192));
      }
      assertThat(admin.encrypt(request.build()).getCiphertextBlob().isEmpty()).isFalse();

      List<String> encrypts =
          Files.readAllLines(server.auditFile()).stream()
              .filter(line -> line.contains("\"operation\":\"Encrypt\""))
              .toList();
      assertThat(encrypts).hasSize(4);
      assertThat(encrypts.subList(0, 3))
          .allSatisfy(
              line ->
                  assertThat(line)
                      .contains("\"outcome\":\"FAILED\"", "\"error\":\"ValidationException\""));
      assertThat(encrypts.get(3)).contains("\"outcome\":\"SUCCEEDED\"");
    }
  }

  @Test
  void batchItems_areHeldToTheSameLimits_eachOnItsOwn() throws Exception {
    try (KmsSecureTestServer server = KmsSecureTestServer.start()) {
      KeyManagementServiceBlockingStub admin = server.client(ADMIN);
      String keyId =
          admin.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
      EncryptRequest good =
          EncryptRequest.newBuilder()
              .setKeyId(keyId)
              .setPlaintext(ByteString.copyFromUtf8("x"))
              .addGrantTokens("a-token")
              .build();
      EncryptRequest.Builder bad = good.toBuilder();
      for (int i = 0; i < 10; i++) {
        bad.addGrantTokens("token-" + i);
      }
      BatchEncryptResponse response =
          admin.batchEncrypt(
              BatchEncryptRequest.newBuilder().addItems(good).addItems(bad.build()).build());
      assertThat(response.getResultsList())
          .extracting(r -> r.hasError() ? r.getError().getErrorCode() : "ok")
          .containsExactly("ok", "ValidationException");
    }
  }

  /** Fails with ValidationException; no encrypt reached the adapter (its cache saw no request). */
  private static void refusedBeforeTheToken(
      KmsSecureTestServer server, org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
    long before = server.hsm().backingKeyCacheHits() + server.hsm().backingKeyCacheMisses();
    Rpc.assertFails(call, Status.Code.INVALID_ARGUMENT, "ValidationException");
    assertThat(server.hsm().backingKeyCacheHits() + server.hsm().backingKeyCacheMisses())
        .isEqualTo(before);
  }
}
