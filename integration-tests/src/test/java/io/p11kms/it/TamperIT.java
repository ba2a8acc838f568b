package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every tampered blob and every wrong encryption context gets one and the same
 * InvalidCiphertextException: same status, same reason, same message.
 */
class TamperIT {
  private static final Map<String, String> CONTEXT = Map.of("tenant", "acme", "table", "orders");

  private static KmsTestServer server;
  private static KeyManagementServiceBlockingStub kms;
  private static String keyId;
  private static String otherKeyId;
  private static byte[] blob;
  private static Rpc.Failure expected;

  @BeforeAll
  static void encryptOnce() throws Exception {
    server = KmsTestServer.start();
    kms = server.client();
    keyId = kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
    otherKeyId = kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
    blob =
        kms.encrypt(
                EncryptRequest.newBuilder()
                    .setKeyId(keyId)
                    .setPlaintext(ByteString.copyFromUtf8("attack at dawn"))
                    .putAllEncryptionContext(CONTEXT)
                    .build())
            .getCiphertextBlob()
            .toByteArray();
    // The reference failure: a flipped last byte (inside the tag).
    byte[] flipped = blob.clone();
    flipped[flipped.length - 1] ^= 1;
    expected = Rpc.failure(() -> decrypt(flipped, CONTEXT));
    assertThat(expected.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(expected.reason()).isEqualTo("InvalidCiphertextException");
  }

  @AfterAll
  static void stopServer() throws Exception {
    server.close();
  }

  @Test
  void untouchedBlob_decrypts() {
    assertThat(decrypt(blob, CONTEXT)).isEqualTo("attack at dawn");
  }

  @Test
  void everySingleBitFlip_isTheSameInvalidCiphertext() {
    int failures = 0;
    for (int bit = 0; bit < blob.length * 8; bit++) {
      byte[] tampered = blob.clone();
      tampered[bit / 8] ^= (byte) (1 << (bit % 8));
      assertThat(Rpc.failure(() -> decrypt(tampered, CONTEXT)))
          .as("bit %d of %d", bit, blob.length * 8)
          .isEqualTo(expected);
      failures++;
    }
    assertThat(failures).isEqualTo(blob.length * 8);
  }

  @Test
  void everyTruncation_isTheSameInvalidCiphertext() {
    for (int length = 1; length < blob.length; length++) {
      byte[] truncated = Arrays.copyOf(blob, length);
      assertThat(Rpc.failure(() -> decrypt(truncated, CONTEXT)))
          .as("truncated to %d bytes", length)
          .isEqualTo(expected);
    }
  }

  @Test
  void blobNamingAnotherExistingKey_isTheSameInvalidCiphertext() {
    byte[] renamed = blob.clone();
    UUID other = UUID.fromString(otherKeyId);
    ByteBuffer.wrap(renamed, 1, 16)
        .putLong(other.getMostSignificantBits())
        .putLong(other.getLeastSignificantBits());

    assertThat(Rpc.failure(() -> decrypt(renamed, CONTEXT))).isEqualTo(expected);
  }

  @Test
  void everyChangeOfContext_isTheSameInvalidCiphertext() {
    Map<String, String> added = new HashMap<>(CONTEXT);
    added.put("extra", "pair");
    Map<String, String> dropped = new HashMap<>(CONTEXT);
    dropped.remove("table");
    Map<String, String> valueChanged = new HashMap<>(CONTEXT);
    valueChanged.put("table", "invoices");
    Map<String, String> valueCase = new HashMap<>(CONTEXT);
    valueCase.put("table", "Orders");
    Map<String, String> keyCase = new LinkedHashMap<>();
    keyCase.put("Tenant", "acme");
    keyCase.put("table", "orders");

    for (Map<String, String> wrong :
        java.util.List.of(
            added, dropped, valueChanged, valueCase, keyCase, Map.<String, String>of())) {
      assertThat(Rpc.failure(() -> decrypt(blob, wrong)))
          .as("context %s", wrong)
          .isEqualTo(expected);
    }
  }

  @Test
  void pairBoundaries_areBoundIntoTheTag() {
    byte[] abc =
        kms.encrypt(
                EncryptRequest.newBuilder()
                    .setKeyId(keyId)
                    .setPlaintext(ByteString.copyFromUtf8("x"))
                    .putEncryptionContext("ab", "c")
                    .build())
            .getCiphertextBlob()
            .toByteArray();

    assertThat(decrypt(abc, Map.of("ab", "c"))).isEqualTo("x");
    assertThat(Rpc.failure(() -> decrypt(abc, Map.of("a", "bc")))).isEqualTo(expected);
  }

  private static String decrypt(byte[] ciphertext, Map<String, String> context) {
    return kms.decrypt(
            DecryptRequest.newBuilder()
                .setCiphertextBlob(ByteString.copyFrom(ciphertext))
                .putAllEncryptionContext(context)
                .build())
        .getPlaintext()
        .toStringUtf8();
  }
}
