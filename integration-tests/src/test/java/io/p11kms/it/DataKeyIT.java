package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DataKeySpec;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.GenerateDataKeyRequest;
import io.p11kms.proto.v1.GenerateDataKeyResponse;
import io.p11kms.proto.v1.GenerateDataKeyWithoutPlaintextRequest;
import io.p11kms.proto.v1.GenerateDataKeyWithoutPlaintextResponse;
import io.p11kms.proto.v1.GenerateRandomRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Data keys and random bytes, over a real socket against a real SoftHSM2 token. */
class DataKeyIT {
  private static KmsTestServer server;
  private static KeyManagementServiceBlockingStub kms;
  private static String keyId;

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

  @ParameterizedTest
  @EnumSource(
      value = DataKeySpec.class,
      names = {"AES_128", "AES_256"})
  void generateDataKey_plaintextEqualsDecrypt_andWorksWithTheJdksAesGcm(DataKeySpec spec)
      throws Exception {
    GenerateDataKeyResponse dataKey =
        kms.generateDataKey(
            GenerateDataKeyRequest.newBuilder()
                .setKeyId(keyId)
                .setKeySpec(spec)
                .putEncryptionContext("bucket", "photos")
                .build());
    byte[] plaintextKey = dataKey.getPlaintext().toByteArray();
    assertThat(plaintextKey).hasSize(spec == DataKeySpec.AES_128 ? 16 : 32);

    byte[] decrypted =
        kms.decrypt(
                DecryptRequest.newBuilder()
                    .setCiphertextBlob(dataKey.getCiphertextBlob())
                    .putEncryptionContext("bucket", "photos")
                    .build())
            .getPlaintext()
            .toByteArray();
    assertThat(decrypted).isEqualTo(plaintextKey);

    byte[] iv = new byte[12];
    Cipher sealer = Cipher.getInstance("AES/GCM/NoPadding");
    sealer.init(
        Cipher.ENCRYPT_MODE, new SecretKeySpec(plaintextKey, "AES"), new GCMParameterSpec(128, iv));
    byte[] sealed = sealer.doFinal("envelope".getBytes(StandardCharsets.UTF_8));
    Cipher opener = Cipher.getInstance("AES/GCM/NoPadding");
    opener.init(
        Cipher.DECRYPT_MODE, new SecretKeySpec(decrypted, "AES"), new GCMParameterSpec(128, iv));
    assertThat(new String(opener.doFinal(sealed), StandardCharsets.UTF_8)).isEqualTo("envelope");
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 7, 1024})
  void generateDataKey_numberOfBytes_givesThatMany(int n) {
    GenerateDataKeyResponse dataKey =
        kms.generateDataKey(
            GenerateDataKeyRequest.newBuilder().setKeyId(keyId).setNumberOfBytes(n).build());

    assertThat(dataKey.getPlaintext().size()).isEqualTo(n);
    assertThat(
            kms.decrypt(
                    DecryptRequest.newBuilder()
                        .setCiphertextBlob(dataKey.getCiphertextBlob())
                        .build())
                .getPlaintext())
        .isEqualTo(dataKey.getPlaintext());
  }

  @Test
  void generateDataKeyWithoutPlaintext_decryptsToAKeyOfTheAskedLength() {
    GenerateDataKeyWithoutPlaintextResponse dataKey =
        kms.generateDataKeyWithoutPlaintext(
            GenerateDataKeyWithoutPlaintextRequest.newBuilder()
                .setKeyId(keyId)
                .setKeySpec(DataKeySpec.AES_256)
                .build());

    assertThat(dataKey.getKeyId()).endsWith(keyId);
    assertThat(
            kms.decrypt(
                    DecryptRequest.newBuilder()
                        .setCiphertextBlob(dataKey.getCiphertextBlob())
                        .build())
                .getPlaintext()
                .size())
        .isEqualTo(32);
  }

  @Test
  void generateRandom_givesDistinctBytesOfTheAskedLength() {
    Set<String> seen = new HashSet<>();
    for (int n : new int[] {1, 32, 1024}) {
      var random =
          kms.generateRandom(GenerateRandomRequest.newBuilder().setNumberOfBytes(n).build());
      assertThat(random.getPlaintext().size()).isEqualTo(n);
    }
    for (int i = 0; i < 20; i++) {
      seen.add(
          kms.generateRandom(GenerateRandomRequest.newBuilder().setNumberOfBytes(32).build())
              .getPlaintext()
              .toStringUtf8());
    }
    assertThat(seen).hasSize(20);
  }
}
