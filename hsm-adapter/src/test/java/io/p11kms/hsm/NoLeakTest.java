package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every request destroys the key objects it made, on every path: the number of objects a fresh
 * session sees is the same before and after thousands of requests, failing ones included, once the
 * cached backing keys are evicted.
 */
class NoLeakTest {
  private static SoftHsmTestToken token;
  private static Pkcs11Hsm hsm;

  @BeforeAll
  static void openToken() {
    token = SoftHsmTestToken.create();
    hsm = Pkcs11Hsm.open(token.hsmConfig());
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

  @Test
  void encryptDecrypt_twoThousandPairsWithFailures_leaveNoObjects() {
    WrappedKey backingKey = hsm.generateBackingKey();
    byte[] badEkt = backingKey.ekt();
    badEkt[3] ^= 0x40;
    WrappedKey mangled = new WrappedKey(1, WrapMechanism.AES_KEY_WRAP, badEkt);
    byte[] plaintext = new byte[256];
    byte[] aad = "aad".getBytes(StandardCharsets.UTF_8);
    Derivation derivation = hsm.preferredDerivation();
    int before = hsm.visibleObjectCount();

    for (int i = 0; i < 2000; i++) {
      byte[] salt = hsm.generateRandom(Hsm.SALT_LENGTH);
      byte[] iv = hsm.generateRandom(Hsm.IV_LENGTH);
      byte[] ciphertext = hsm.encrypt(backingKey, derivation, salt, iv, aad, plaintext);
      switch (i % 10) {
        case 3 -> {
          ciphertext[ciphertext.length - 1] ^= 0x01;
          assertThatThrownBy(() -> hsm.decrypt(backingKey, derivation, salt, iv, aad, ciphertext))
              .isInstanceOf(HsmDecryptionFailedException.class);
        }
        case 7 ->
            assertThatThrownBy(() -> hsm.decrypt(mangled, derivation, salt, iv, aad, ciphertext))
                .isInstanceOf(HsmDecryptionFailedException.class);
        default ->
            assertThat(hsm.decrypt(backingKey, derivation, salt, iv, aad, ciphertext))
                .isEqualTo(plaintext);
      }
    }

    // The one backing key in use stays cached until evicted; the mangled one never got in.
    assertThat(hsm.cachedBackingKeyCount()).isEqualTo(1);
    assertThat(hsm.visibleObjectCount()).isEqualTo(before + 1);
    hsm.evictCachedBackingKeys();
    assertThat(hsm.cachedBackingKeyCount()).isZero();
    assertThat(hsm.visibleObjectCount()).isEqualTo(before);
  }

  @Test
  void generateBackingKey_leavesNoObjects() {
    int before = hsm.visibleObjectCount();
    for (int i = 0; i < 200; i++) {
      hsm.generateBackingKey();
    }
    assertThat(hsm.visibleObjectCount()).isEqualTo(before);
  }
}
