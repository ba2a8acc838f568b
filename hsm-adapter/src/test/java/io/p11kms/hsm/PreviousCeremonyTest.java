package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.diagnostics.TokenDoctor;
import io.p11kms.hsm.diagnostics.TokenReport;
import io.p11kms.hsm.domain.DomainKeyCeremony;
import io.p11kms.hsm.domain.DomainKeyRole;
import io.p11kms.hsm.keys.PrivateKeyTemplates;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;

/**
 * A token made by the ceremony before (backing keys that derive, HMAC keys under the asymmetric
 * domain key) keeps working, and a domain-key rotation brings the current templates: new backing
 * keys run AES-GCM themselves, old ones stay under their generation so that their derived
 * ciphertexts still decrypt, and HMAC keys move to the HMAC domain key.
 */
class PreviousCeremonyTest {
  private static final byte[] AAD = {1, 2, 3};
  private static final byte[] PLAINTEXT =
      "old secret".getBytes(java.nio.charset.StandardCharsets.UTF_8);

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
  void previousToken_keepsWorking_andARotationBringsTheCurrentTemplates() throws Exception {
    token = SoftHsmTestToken.createWithoutDomainKey();
    char[] soPin = token.soPin();
    WrappedKey old;
    WrappedKey oldHmac;
    byte[] oldSalt;
    byte[] oldIv;
    byte[] derived;
    byte[] mac;
    try {
      TestCeremonies.run(TestCeremonies.Kind.PREVIOUS, token.modulePath(), token.label(), soPin, 1);
      hsm = Pkcs11Hsm.open(token.hsmConfig());

      old = hsm.generateBackingKey();
      assertThat(hsm.derivationFor(old)).isEqualTo(Derivation.AES_ECB_ENCRYPT_DATA);
      oldSalt = hsm.generateRandom(Hsm.SALT_LENGTH);
      oldIv = hsm.generateRandom(Hsm.IV_LENGTH);
      derived = hsm.encrypt(old, Derivation.AES_ECB_ENCRYPT_DATA, oldSalt, oldIv, AAD, PLAINTEXT);
      oldHmac = hmacUnderTheAsymmetricDomainKey();
      mac = hsm.generateMac(oldHmac, HmacType.HMAC_SHA256, PLAINTEXT);
      assertThatThrownBy(() -> hsm.generateHmacKey(HmacType.HMAC_SHA256))
          .isInstanceOf(AsymmetricDomainKeyMissingException.class)
          .hasMessageContaining("domain-key-hmac/1");

      // The doctor names the hole and the remedy.
      TokenReport before = TokenDoctor.inspect(token.hsmConfig());
      assertThat(before.checks())
          .filteredOn(c -> c.name().equals("domain-key/1"))
          .singleElement()
          .satisfies(
              c -> {
                assertThat(c.ok()).isFalse();
                assertThat(c.detail()).contains("per-request keys", "rotate-domain-key");
              });

      // The SO logs in with no user session open in this process.
      hsm.close();
      assertThat(DomainKeyCeremony.createNextDomainKey(token.modulePath(), token.label(), soPin))
          .isEqualTo(2);
      hsm = Pkcs11Hsm.open(token.hsmConfig());
    } finally {
      Arrays.fill(soPin, '\0');
    }
    assertThat(hsm.currentDomainKeyGeneration()).isEqualTo(2);

    // The old backing key stays where its derived ciphertexts need it.
    assertThatThrownBy(() -> hsm.rewrap(old, 2)).isInstanceOf(EktCannotMoveException.class);
    assertThat(hsm.decrypt(old, Derivation.AES_ECB_ENCRYPT_DATA, oldSalt, oldIv, AAD, derived))
        .isEqualTo(PLAINTEXT);

    // New backing keys: AES-GCM under the key itself; a derivation is refused for them.
    WrappedKey fresh = hsm.generateBackingKey();
    assertThat(fresh.domainKeyGeneration()).isEqualTo(2);
    assertThat(hsm.derivationFor(fresh)).isEqualTo(Derivation.NONE_AES_GCM);
    byte[] salt = hsm.generateRandom(Hsm.SALT_LENGTH);
    byte[] iv = hsm.generateRandom(Hsm.IV_LENGTH);
    byte[] sealed = hsm.encrypt(fresh, Derivation.NONE_AES_GCM, salt, iv, AAD, PLAINTEXT);
    assertThat(hsm.decrypt(fresh, Derivation.NONE_AES_GCM, salt, iv, AAD, sealed))
        .isEqualTo(PLAINTEXT);
    assertThatThrownBy(
            () -> hsm.decrypt(fresh, Derivation.AES_ECB_ENCRYPT_DATA, salt, iv, AAD, sealed))
        .isInstanceOf(HsmDecryptionFailedException.class);
    assertThatThrownBy(
            () -> hsm.encrypt(fresh, Derivation.AES_ECB_ENCRYPT_DATA, salt, iv, AAD, PLAINTEXT))
        .isInstanceOf(HsmException.class);

    // The HMAC key moves to the HMAC domain key and computes the same MAC there.
    WrappedKey movedHmac = hsm.rewrapPrivateKey(oldHmac, null, HmacType.HMAC_SHA256, null, 2);
    assertThat(movedHmac.role()).isEqualTo(DomainKeyRole.HMAC);
    assertThat(hsm.generateMac(movedHmac, HmacType.HMAC_SHA256, PLAINTEXT)).isEqualTo(mac);
    assertThat(hsm.generateHmacKey(HmacType.HMAC_SHA256).role()).isEqualTo(DomainKeyRole.HMAC);

    // Generation 1 stays, noted; the current one has nothing to report.
    TokenReport after = TokenDoctor.inspect(token.hsmConfig());
    assertThat(after.ok()).isTrue();
    assertThat(after.checks())
        .filteredOn(c -> c.name().equals("domain-key/1"))
        .singleElement()
        .satisfies(c -> assertThat(c.detail()).contains("older ceremony"));
  }

  /** An HMAC key as the ceremony before made it: wrapped under domain-key-asym/1. */
  private WrappedKey hmacUnderTheAsymmetricDomainKey() throws Exception {
    Mechanism kwp = new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP_PAD);
    byte[] ekt =
        hsm.withSessionForTest(
            session -> {
              long asym = hsm.asymDomainKeyHandleForTest(session, 1);
              long key =
                  session.generateKey(
                      new Mechanism(PKCS11Constants.CKM_GENERIC_SECRET_KEY_GEN),
                      PrivateKeyTemplates.newHmacKey(HmacType.HMAC_SHA256));
              try {
                return session.wrapKey(kwp, asym, key);
              } finally {
                session.destroyObject(key);
              }
            });
    return new WrappedKey(1, WrapMechanism.AES_KEY_WRAP_PAD, ekt, DomainKeyRole.ASYMMETRIC);
  }
}
