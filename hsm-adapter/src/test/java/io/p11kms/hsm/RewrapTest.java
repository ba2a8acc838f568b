package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.domain.DomainKeyCeremony;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Domain-key rotation in the adapter: the next generation is created by the SO (while no user login
 * is open in this process), picked up by a re-scan, and an EKT moved to it inside the token still
 * decrypts what it encrypted, leaving no object behind.
 */
class RewrapTest {
  private static final byte[] AAD = "aad".getBytes(StandardCharsets.UTF_8);
  private static final byte[] PLAINTEXT = "rotate me".getBytes(StandardCharsets.UTF_8);

  private SoftHsmTestToken token;
  private Pkcs11Hsm hsm;

  @AfterEach
  void close() {
    if (hsm != null) {
      hsm.close();
    }
    if (token != null) {
      token.close();
    }
  }

  @Test
  void rewrap_toTheNextGeneration_keepsTheBackingKey_andLeavesNoObject() {
    token = SoftHsmTestToken.create();
    hsm = Pkcs11Hsm.open(token.hsmConfig());
    WrappedKey underOne = hsm.generateBackingKey();
    byte[] salt = hsm.generateRandom(Hsm.SALT_LENGTH);
    byte[] iv = hsm.generateRandom(Hsm.IV_LENGTH);
    byte[] ciphertext = hsm.encrypt(underOne, Derivation.NONE_AES_GCM, salt, iv, AAD, PLAINTEXT);
    hsm.close();
    hsm = null;

    char[] soPin = token.soPin();
    int created;
    try {
      created = DomainKeyCeremony.createNextDomainKey(token.modulePath(), token.label(), soPin);
    } finally {
      java.util.Arrays.fill(soPin, '\0');
    }
    assertThat(created).isEqualTo(2);

    hsm = Pkcs11Hsm.open(token.hsmConfig());
    assertThat(hsm.currentDomainKeyGeneration()).isEqualTo(2);
    assertThat(hsm.generateBackingKey().domainKeyGeneration()).isEqualTo(2);
    hsm.evictCachedBackingKeys();
    int objects = hsm.visibleObjectCount();

    WrappedKey underTwo = hsm.rewrap(underOne, 2);

    assertThat(underTwo.domainKeyGeneration()).isEqualTo(2);
    assertThat(underTwo.ekt()).hasSize(40).isNotEqualTo(underOne.ekt());
    assertThat(hsm.visibleObjectCount()).isEqualTo(objects);
    assertThat(hsm.decrypt(underTwo, Derivation.NONE_AES_GCM, salt, iv, AAD, ciphertext))
        .isEqualTo(PLAINTEXT);
    // Generation 1 is still there: the old EKT still decrypts (a half-done re-wrap is safe).
    assertThat(hsm.decrypt(underOne, Derivation.NONE_AES_GCM, salt, iv, AAD, ciphertext))
        .isEqualTo(PLAINTEXT);
    assertThatThrownBy(() -> hsm.rewrap(underOne, 3)).isInstanceOf(HsmException.class);
  }
}
