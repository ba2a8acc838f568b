package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.testing.SoftHsmTestToken;
import org.junit.jupiter.api.Test;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;

/**
 * A user session can make token keys labelled like domain keys, but not TRUSTED ones: the adapter
 * must ignore them, or a planted {@code domain-key/2} would break key creation and a second {@code
 * domain-key/1} would make every EKT's domain key ambiguous.
 */
class PlantedDomainKeyTest {

  @Test
  void plantedUntrustedDomainKeys_areIgnored() throws Exception {
    try (SoftHsmTestToken token = SoftHsmTestToken.create();
        Pkcs11Hsm first = Pkcs11Hsm.open(token.hsmConfig())) {
      WrappedKey before = first.generateBackingKey();
      byte[] salt = new byte[Hsm.SALT_LENGTH];
      byte[] iv = new byte[Hsm.IV_LENGTH];
      byte[] sealed =
          first.encrypt(before, first.preferredDerivation(), salt, iv, new byte[0], new byte[16]);
      first.withSessionForTest(
          session -> {
            for (String label : new String[] {"domain-key/1", "domain-key/2"}) {
              session.generateKey(
                  new Mechanism(PKCS11Constants.CKM_AES_KEY_GEN),
                  AttributeVector.newAESSecretKey()
                      .valueLen(32)
                      .label(label)
                      .token(true)
                      .private_(false)
                      .sensitive(false)
                      .extractable(true)
                      .wrap(true)
                      .unwrap(true)
                      .encrypt(true)
                      .decrypt(true));
            }
            return null;
          });

      // A second adapter scans the token afresh, as a restarted server would.
      try (Pkcs11Hsm second = Pkcs11Hsm.open(token.hsmConfig())) {
        assertThat(second.currentDomainKeyGeneration()).isEqualTo(1);
        WrappedKey after = second.generateBackingKey();
        assertThat(after.domainKeyGeneration()).isEqualTo(1);
        assertThat(
                second.decrypt(before, second.preferredDerivation(), salt, iv, new byte[0], sealed))
            .isEqualTo(new byte[16]);
      }
    }
  }
}
