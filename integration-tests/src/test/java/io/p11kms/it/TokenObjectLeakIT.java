package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every derived key and unwrapped backing key is destroyed: the token's object count holds. */
class TokenObjectLeakIT {
  private static KmsTestServer server;
  private static KeyManagementServiceBlockingStub kms;

  @BeforeAll
  static void startServer() throws Exception {
    server = KmsTestServer.start();
    kms = server.client();
  }

  @AfterAll
  static void stopServer() throws Exception {
    server.close();
  }

  @Test
  void tenThousandEncryptAndDecryptCalls_leaveNoTokenObjectBehind() {
    String keyId = kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
    int before = server.tokenObjects();
    ByteString plaintext = ByteString.copyFromUtf8("a record of 32 bytes, give or ta");
    int calls = 0;

    for (int i = 0; i < 5_000; i++) {
      ByteString blob =
          kms.encrypt(EncryptRequest.newBuilder().setKeyId(keyId).setPlaintext(plaintext).build())
              .getCiphertextBlob();
      calls++;
      ByteString decrypted =
          kms.decrypt(DecryptRequest.newBuilder().setCiphertextBlob(blob).build()).getPlaintext();
      calls++;
      if (i % 500 == 0) {
        assertThat(decrypted).isEqualTo(plaintext);
      }
    }

    assertThat(calls).isEqualTo(10_000);
    assertThat(before).as("the domain key at least").isPositive();
    assertThat(server.tokenObjects()).isEqualTo(before);
  }

  @Test
  void failedDecrypts_leaveNoTokenObjectBehind() {
    String keyId = kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
    byte[] blob =
        kms.encrypt(
                EncryptRequest.newBuilder()
                    .setKeyId(keyId)
                    .setPlaintext(ByteString.copyFromUtf8("x"))
                    .build())
            .getCiphertextBlob()
            .toByteArray();
    int before = server.tokenObjects();

    for (int i = 0; i < 200; i++) {
      byte[] tampered = blob.clone();
      tampered[tampered.length - 1 - (i % 16)] ^= 1;
      Rpc.assertFails(
          () ->
              kms.decrypt(
                  DecryptRequest.newBuilder()
                      .setCiphertextBlob(ByteString.copyFrom(tampered))
                      .build()),
          io.grpc.Status.Code.INVALID_ARGUMENT,
          "InvalidCiphertextException");
    }

    assertThat(server.tokenObjects()).isEqualTo(before);
  }
}
