package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.domain.DomainJoin;
import io.p11kms.hsm.domain.DomainKeyBundle;
import io.p11kms.hsm.domain.DomainKeyCeremony;
import io.p11kms.hsm.domain.TransportKey;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A token whose generation 1 the ceremony before made (backing keys that derive) and whose
 * generation 2 the current one made joins a new token as it is: each domain key lands with the
 * templates that made it, so a ciphertext derived under generation 1 decrypts on the new token.
 */
class PreviousCeremonyJoinTest {
  private static final byte[] AAD = "aad".getBytes(StandardCharsets.UTF_8);
  private static final byte[] PLAINTEXT = "old".getBytes(StandardCharsets.UTF_8);

  private SoftHsmTestToken source;
  private SoftHsmTestToken target;

  @AfterEach
  void close() {
    if (target != null) {
      target.close();
    }
    if (source != null) {
      source.close();
    }
  }

  @Test
  void previousGeneration_joinsAsItWasMade_andItsDerivedCiphertextsDecryptOnTheTarget() {
    source = SoftHsmTestToken.createWithoutDomainKey();
    target = SoftHsmTestToken.createBeside(source);
    char[] sourcePin = source.soPin();
    char[] targetPin = target.soPin();
    try {
      TestCeremonies.run(
          TestCeremonies.Kind.PREVIOUS, source.modulePath(), source.label(), sourcePin, 1);
      WrappedKey old;
      byte[] salt;
      byte[] iv;
      byte[] ciphertext;
      try (Pkcs11Hsm a = Pkcs11Hsm.open(source.hsmConfig())) {
        old = a.generateBackingKey();
        salt = a.generateRandom(Hsm.SALT_LENGTH);
        iv = a.generateRandom(Hsm.IV_LENGTH);
        ciphertext = a.encrypt(old, a.derivationFor(old), salt, iv, AAD, PLAINTEXT);
      }
      DomainKeyCeremony.createNextDomainKey(source.modulePath(), source.label(), sourcePin);

      TransportKey transport = DomainJoin.begin(target.modulePath(), target.label(), targetPin);
      DomainKeyBundle bundle =
          DomainJoin.export(
              source.modulePath(),
              source.label(),
              sourcePin,
              transport,
              transport.fingerprint(),
              false);
      List<DomainJoin.Joined> joined =
          DomainJoin.finish(
              target.modulePath(), target.label(), targetPin, bundle, bundle.fingerprint());
      assertThat(joined).extracting(DomainJoin.Joined::label).contains("domain-key/1");

      try (Pkcs11Hsm b = Pkcs11Hsm.open(target.hsmConfig())) {
        assertThat(b.derivationFor(old)).isEqualTo(Derivation.AES_ECB_ENCRYPT_DATA);
        assertThat(b.decrypt(old, Derivation.AES_ECB_ENCRYPT_DATA, salt, iv, AAD, ciphertext))
            .isEqualTo(PLAINTEXT);
        WrappedKey fresh = b.generateBackingKey();
        assertThat(b.derivationFor(fresh)).isEqualTo(Derivation.NONE_AES_GCM);
      }
    } finally {
      Arrays.fill(sourcePin, '\0');
      Arrays.fill(targetPin, '\0');
    }
  }
}
