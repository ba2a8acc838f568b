package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.session.Pkcs11Errors;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Encrypt, decrypt, key generation and random bytes against a real SoftHSM2 token. */
class Pkcs11HsmTest {
  private static SoftHsmTestToken token;
  private static Pkcs11Hsm hsm;
  private static WrappedKey backingKey;

  @BeforeAll
  static void openToken() {
    token = SoftHsmTestToken.create();
    hsm = Pkcs11Hsm.open(token.hsmConfig());
    backingKey = hsm.generateBackingKey();
  }

  @AfterAll
  static void closeToken() {
    if (hsm != null) {
      hsm.close();
    }
    if (token != null) {
      token.close();
    }
  }

  private static byte[] salt() {
    return hsm.generateRandom(Hsm.SALT_LENGTH);
  }

  private static byte[] iv() {
    return hsm.generateRandom(Hsm.IV_LENGTH);
  }

  private static final byte[] AAD = "header|context".getBytes(StandardCharsets.UTF_8);
  private static final byte[] PLAINTEXT = "attack at dawn".getBytes(StandardCharsets.UTF_8);

  @Test
  void preferredDerivation_onSoftHsm_isAesGcmUnderTheBackingKey() {
    assertThat(hsm.preferredDerivation()).isEqualTo(Derivation.NONE_AES_GCM);
  }

  @Test
  void generateBackingKey_returnsRfc3394EktUnderGenerationOne() {
    WrappedKey key = hsm.generateBackingKey();
    assertThat(key.domainKeyGeneration()).isEqualTo(1);
    assertThat(key.wrapMechanism()).isEqualTo(WrapMechanism.AES_KEY_WRAP);
    assertThat(key.ekt()).hasSize(40);
    assertThat(key).isNotEqualTo(hsm.generateBackingKey());
  }

  @Test
  void encryptThenDecrypt_roundTrips() {
    byte[] salt = salt();
    byte[] iv = iv();
    byte[] ciphertext = hsm.encrypt(backingKey, Derivation.NONE_AES_GCM, salt, iv, AAD, PLAINTEXT);
    assertThat(ciphertext).hasSize(PLAINTEXT.length + Hsm.TAG_LENGTH);
    byte[] plaintext = hsm.decrypt(backingKey, Derivation.NONE_AES_GCM, salt, iv, AAD, ciphertext);
    assertThat(plaintext).isEqualTo(PLAINTEXT);
  }

  @Test
  void encryptThenDecrypt_emptyPlaintextAndAad_roundTrips() {
    byte[] salt = salt();
    byte[] iv = iv();
    byte[] ciphertext =
        hsm.encrypt(backingKey, Derivation.NONE_AES_GCM, salt, iv, new byte[0], new byte[0]);
    assertThat(ciphertext).hasSize(Hsm.TAG_LENGTH);
    assertThat(hsm.decrypt(backingKey, Derivation.NONE_AES_GCM, salt, iv, new byte[0], ciphertext))
        .isEmpty();
  }

  @Test
  void encrypt_differentBackingKeys_giveDifferentCiphertexts() {
    byte[] salt = salt();
    byte[] iv = iv();
    byte[] first = hsm.encrypt(backingKey, Derivation.NONE_AES_GCM, salt, iv, AAD, PLAINTEXT);
    byte[] second =
        hsm.encrypt(hsm.generateBackingKey(), Derivation.NONE_AES_GCM, salt, iv, AAD, PLAINTEXT);
    assertThat(first).isNotEqualTo(second);
  }

  @Test
  void decrypt_modifiedTag_fails() {
    assertTamperedFails(Tamper.CIPHERTEXT_LAST_BYTE);
  }

  @Test
  void decrypt_modifiedCiphertext_fails() {
    assertTamperedFails(Tamper.CIPHERTEXT_FIRST_BYTE);
  }

  @Test
  void decrypt_modifiedAad_fails() {
    assertTamperedFails(Tamper.AAD);
  }

  // The salt makes no key under NONE_AES_GCM: the service binds it into the AAD (the header), so
  // a changed salt is a changed AAD there. PreviousCeremonyTest covers a derivation from it.

  @Test
  void decrypt_wrongIv_fails() {
    assertTamperedFails(Tamper.IV);
  }

  @Test
  void decrypt_truncatedCiphertext_fails() {
    byte[] salt = salt();
    byte[] iv = iv();
    assertThatThrownBy(
            () -> hsm.decrypt(backingKey, Derivation.NONE_AES_GCM, salt, iv, AAD, new byte[5]))
        .isInstanceOf(HsmDecryptionFailedException.class);
  }

  @Test
  void decrypt_mangledEkt_fails() {
    byte[] salt = salt();
    byte[] iv = iv();
    byte[] ciphertext = hsm.encrypt(backingKey, Derivation.NONE_AES_GCM, salt, iv, AAD, PLAINTEXT);
    byte[] ekt = backingKey.ekt();
    ekt[7] ^= 0x01;
    WrappedKey mangled = new WrappedKey(1, WrapMechanism.AES_KEY_WRAP, ekt);
    assertThatThrownBy(
            () -> hsm.decrypt(mangled, Derivation.NONE_AES_GCM, salt, iv, AAD, ciphertext))
        .isInstanceOf(HsmDecryptionFailedException.class)
        .hasMessage(Pkcs11Errors.DECRYPTION_FAILED)
        .hasNoCause();
  }

  @Test
  void decrypt_truncatedEkt_fails() {
    byte[] salt = salt();
    byte[] iv = iv();
    byte[] ciphertext = hsm.encrypt(backingKey, Derivation.NONE_AES_GCM, salt, iv, AAD, PLAINTEXT);
    WrappedKey truncated =
        new WrappedKey(1, WrapMechanism.AES_KEY_WRAP, Arrays.copyOf(backingKey.ekt(), 37));
    assertThatThrownBy(
            () -> hsm.decrypt(truncated, Derivation.NONE_AES_GCM, salt, iv, AAD, ciphertext))
        .isInstanceOf(HsmDecryptionFailedException.class);
  }

  @Test
  void decrypt_derivationTheTokenCannotRun_fails() {
    byte[] salt = salt();
    byte[] iv = iv();
    byte[] ciphertext = hsm.encrypt(backingKey, Derivation.NONE_AES_GCM, salt, iv, AAD, PLAINTEXT);
    assertThatThrownBy(
            () ->
                hsm.decrypt(
                    backingKey,
                    Derivation.SP800_108_COUNTER_HMAC_SHA256,
                    salt,
                    iv,
                    AAD,
                    ciphertext))
        .isInstanceOf(HsmDecryptionFailedException.class);
  }

  @Test
  void encrypt_unknownDomainKeyGeneration_failsNamingTheKey() {
    WrappedKey other = new WrappedKey(7, WrapMechanism.AES_KEY_WRAP, backingKey.ekt());
    assertThatThrownBy(
            () -> hsm.encrypt(other, Derivation.NONE_AES_GCM, salt(), iv(), AAD, PLAINTEXT))
        .isExactlyInstanceOf(HsmException.class)
        .hasMessageContaining("domain-key/7");
  }

  @Test
  void encrypt_wrongSaltLength_isRejected() {
    assertThatThrownBy(
            () ->
                hsm.encrypt(
                    backingKey, Derivation.NONE_AES_GCM, new byte[31], iv(), AAD, PLAINTEXT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("salt");
  }

  @Test
  void encrypt_wrongIvLength_isRejected() {
    assertThatThrownBy(
            () ->
                hsm.encrypt(
                    backingKey, Derivation.NONE_AES_GCM, salt(), new byte[16], AAD, PLAINTEXT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("IV");
  }

  @Test
  void decrypt_nullArguments_areRejected() {
    assertThatThrownBy(
            () -> hsm.decrypt(null, Derivation.NONE_AES_GCM, salt(), iv(), AAD, new byte[16]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> hsm.decrypt(backingKey, null, salt(), iv(), AAD, new byte[16]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> hsm.decrypt(backingKey, Derivation.NONE_AES_GCM, salt(), null, AAD, new byte[16]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> hsm.decrypt(backingKey, Derivation.NONE_AES_GCM, salt(), iv(), AAD, null))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void generateRandom_returnsRequestedLength() {
    assertThat(hsm.generateRandom(1)).hasSize(1);
    assertThat(hsm.generateRandom(1024)).hasSize(1024);
    assertThat(hsm.generateRandom(32)).isNotEqualTo(hsm.generateRandom(32));
  }

  @Test
  void generateRandom_outOfRange_isRejected() {
    assertThatThrownBy(() -> hsm.generateRandom(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> hsm.generateRandom(1025)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> hsm.generateRandom(-1)).isInstanceOf(IllegalArgumentException.class);
  }

  private enum Tamper {
    CIPHERTEXT_FIRST_BYTE,
    CIPHERTEXT_LAST_BYTE,
    AAD,
    IV
  }

  private static void assertTamperedFails(Tamper tamper) {
    byte[] salt = salt();
    byte[] iv = iv();
    byte[] aad = AAD.clone();
    byte[] ciphertext = hsm.encrypt(backingKey, Derivation.NONE_AES_GCM, salt, iv, aad, PLAINTEXT);
    switch (tamper) {
      case CIPHERTEXT_FIRST_BYTE -> ciphertext[0] ^= 0x01;
      case CIPHERTEXT_LAST_BYTE -> ciphertext[ciphertext.length - 1] ^= 0x01;
      case AAD -> aad[0] ^= 0x01;
      case IV -> iv[0] ^= 0x01;
    }
    assertThatThrownBy(
            () -> hsm.decrypt(backingKey, Derivation.NONE_AES_GCM, salt, iv, aad, ciphertext))
        .isInstanceOf(HsmDecryptionFailedException.class)
        .hasMessage(Pkcs11Errors.DECRYPTION_FAILED)
        .hasNoCause();
  }
}
