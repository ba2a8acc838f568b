package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.DecryptResponse;
import io.p11kms.proto.v1.DescribeKeyRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.EncryptResponse;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.KeyMetadata;
import io.p11kms.proto.v1.KeySpec;
import io.p11kms.proto.v1.KeyState;
import io.p11kms.proto.v1.KeyUsage;
import io.p11kms.proto.v1.ListKeysRequest;
import io.p11kms.proto.v1.ListKeysResponse;
import io.p11kms.proto.v1.ReEncryptRequest;
import io.p11kms.proto.v1.ReEncryptResponse;
import java.security.SecureRandom;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Keys, Encrypt, Decrypt and ReEncrypt over a real socket against a real SoftHSM2 token. */
class EncryptDecryptIT {
  private static KmsTestServer server;
  private static KeyManagementServiceBlockingStub kms;
  private static String keyId;
  private final SecureRandom random = new SecureRandom();

  @BeforeAll
  static void startServer() throws Exception {
    server = KmsTestServer.start();
    kms = server.client();
    keyId = kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
  }

  @AfterAll
  static void stopServer() throws Exception {
    server.close();
  }

  @Test
  void createKey_describesAnEnabledSymmetricKey() {
    KeyMetadata created =
        kms.createKey(CreateKeyRequest.newBuilder().setDescription("orders table").build())
            .getKeyMetadata();

    KeyMetadata described =
        kms.describeKey(DescribeKeyRequest.newBuilder().setKeyId(created.getKeyId()).build())
            .getKeyMetadata();

    assertThat(described).isEqualTo(created);
    assertThat(described.getDescription()).isEqualTo("orders table");
    assertThat(described.getKeyState()).isEqualTo(KeyState.ENABLED);
    assertThat(described.getEnabled()).isTrue();
    assertThat(described.getKeyUsage()).isEqualTo(KeyUsage.ENCRYPT_DECRYPT);
    assertThat(described.getKeySpec()).isEqualTo(KeySpec.SYMMETRIC_DEFAULT);
    assertThat(described.getArn())
        .isEqualTo("arn:aws:kms:local-1:111122223333:key/" + created.getKeyId());
    assertThat(described.getCreationDate().getSeconds()).isPositive();
  }

  @Test
  void describeKey_byArn_findsTheSameKey() {
    String arn = "arn:aws:kms:local-1:111122223333:key/" + keyId;

    KeyMetadata described =
        kms.describeKey(DescribeKeyRequest.newBuilder().setKeyId(arn).build()).getKeyMetadata();

    assertThat(described.getKeyId()).isEqualTo(keyId);
  }

  @Test
  void listKeys_pagesThroughEveryKeyOnce() {
    for (int i = 0; i < 5; i++) {
      kms.createKey(CreateKeyRequest.getDefaultInstance());
    }
    Set<String> seen = new HashSet<>();
    String marker = "";
    int pages = 0;
    do {
      ListKeysResponse page =
          kms.listKeys(ListKeysRequest.newBuilder().setLimit(2).setMarker(marker).build());
      assertThat(page.getKeysCount()).isBetween(1, 2);
      page.getKeysList().forEach(k -> assertThat(seen.add(k.getKeyId())).isTrue());
      marker = page.getNextMarker();
      assertThat(page.getTruncated()).isEqualTo(!marker.isEmpty());
      pages++;
    } while (!marker.isEmpty());

    assertThat(seen).contains(keyId).hasSizeGreaterThanOrEqualTo(6);
    assertThat(pages).isEqualTo((seen.size() + 1) / 2);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 256, 4096})
  void encryptThenDecrypt_returnsThePlaintext(int size) {
    byte[] plaintext = randomBytes(size);
    Map<String, String> context = Map.of("tenant", "acme", "purpose", "test");

    EncryptResponse encrypted = kms.encrypt(encrypt(plaintext, context));
    DecryptResponse decrypted =
        kms.decrypt(
            DecryptRequest.newBuilder()
                .setCiphertextBlob(encrypted.getCiphertextBlob())
                .putAllEncryptionContext(context)
                .build());

    assertThat(decrypted.getPlaintext().toByteArray()).isEqualTo(plaintext);
    assertThat(decrypted.getKeyId()).isEqualTo(encrypted.getKeyId()).endsWith(keyId);
  }

  @Test
  void decrypt_withTheRightKeyIdGiven_succeeds_andWithAnotherKey_isIncorrectKey() {
    byte[] plaintext = randomBytes(32);
    ByteString blob = kms.encrypt(encrypt(plaintext, Map.of())).getCiphertextBlob();
    String otherKey =
        kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();

    DecryptResponse ok =
        kms.decrypt(DecryptRequest.newBuilder().setCiphertextBlob(blob).setKeyId(keyId).build());
    assertThat(ok.getPlaintext().toByteArray()).isEqualTo(plaintext);

    Rpc.assertFails(
        () ->
            kms.decrypt(
                DecryptRequest.newBuilder().setCiphertextBlob(blob).setKeyId(otherKey).build()),
        Status.Code.INVALID_ARGUMENT,
        "IncorrectKeyException");
  }

  @Test
  void encrypt_samePlaintextTwice_givesDifferentCiphertexts() {
    byte[] plaintext = randomBytes(64);

    ByteString first = kms.encrypt(encrypt(plaintext, Map.of())).getCiphertextBlob();
    ByteString second = kms.encrypt(encrypt(plaintext, Map.of())).getCiphertextBlob();

    assertThat(first).isNotEqualTo(second);
  }

  @Test
  void reEncrypt_movesACiphertextToAnotherKeyAndContext() {
    byte[] plaintext = randomBytes(100);
    String destination =
        kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
    ByteString source = kms.encrypt(encrypt(plaintext, Map.of("stage", "one"))).getCiphertextBlob();

    ReEncryptResponse moved =
        kms.reEncrypt(
            ReEncryptRequest.newBuilder()
                .setCiphertextBlob(source)
                .putSourceEncryptionContext("stage", "one")
                .setDestinationKeyId(destination)
                .putDestinationEncryptionContext("stage", "two")
                .build());

    assertThat(moved.getSourceKeyId()).endsWith(keyId);
    assertThat(moved.getKeyId()).endsWith(destination);
    DecryptResponse decrypted =
        kms.decrypt(
            DecryptRequest.newBuilder()
                .setCiphertextBlob(moved.getCiphertextBlob())
                .putEncryptionContext("stage", "two")
                .build());
    assertThat(decrypted.getPlaintext().toByteArray()).isEqualTo(plaintext);
    assertThat(decrypted.getKeyId()).endsWith(destination);
  }

  private EncryptRequest encrypt(byte[] plaintext, Map<String, String> context) {
    return EncryptRequest.newBuilder()
        .setKeyId(keyId)
        .setPlaintext(ByteString.copyFrom(plaintext))
        .putAllEncryptionContext(context)
        .build();
  }

  private byte[] randomBytes(int size) {
    byte[] bytes = new byte[size];
    random.nextBytes(bytes);
    return bytes;
  }
}
