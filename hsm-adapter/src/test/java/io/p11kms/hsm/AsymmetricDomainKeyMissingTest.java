package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.diagnostics.TokenDoctor;
import io.p11kms.hsm.diagnostics.TokenReport;
import io.p11kms.hsm.domain.DomainKeyCeremony;
import io.p11kms.hsm.keys.KeyTemplates;
import io.p11kms.hsm.session.Pkcs11Modules;
import io.p11kms.hsm.session.TokenFinder;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Module;
import org.xipki.pkcs11.wrapper.Session;

/**
 * A token made before asymmetric and HMAC domain keys (only {@code domain-key/1}): the adapter
 * opens and serves symmetric keys, asymmetric and HMAC operations fail with {@link
 * AsymmetricDomainKeyMissingException} and leave nothing, and the SO ceremony run again for
 * generation 1 adds {@code domain-key-asym/1} and {@code domain-key-hmac/1} alone, after which they
 * work.
 */
class AsymmetricDomainKeyMissingTest {
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
  void olderToken_servesSymmetricKeys_andTheCeremonyAddsTheAsymmetricDomainKey() throws Exception {
    token = SoftHsmTestToken.createWithoutDomainKey();
    createOnlySymmetricDomainKey();

    hsm = Pkcs11Hsm.open(token.hsmConfig());
    assertThat(hsm.generateBackingKey().domainKeyGeneration()).isEqualTo(1);
    hsm.evictCachedBackingKeys();
    int objects = hsm.visibleObjectCount();
    assertThatThrownBy(() -> hsm.generateKeyPair(KeyPairType.EC_P256, PrivateKeyUsage.SIGN))
        .isInstanceOf(AsymmetricDomainKeyMissingException.class)
        .hasMessageContaining("domain-key-asym/1")
        .hasMessageContaining("init-domain-key");
    assertThatThrownBy(() -> hsm.generateHmacKey(HmacType.HMAC_SHA256))
        .isInstanceOf(AsymmetricDomainKeyMissingException.class);
    assertThat(hsm.generateDataKeyPair(KeyPairType.EC_P256).privateKeyPkcs8()).isNotEmpty();
    assertThat(hsm.visibleObjectCount()).isEqualTo(objects);
    hsm.close();
    hsm = null;
    TokenReport report = TokenDoctor.inspect(token.hsmConfig());
    assertThat(report.ok()).isFalse();
    assertThat(report.checks())
        .filteredOn(c -> !c.ok())
        .extracting(TokenReport.Check::name)
        .containsExactly("domain-key-asym/1", "domain-key-hmac/1");
    assertThat(report.checks())
        .filteredOn(c -> !c.ok())
        .allSatisfy(c -> assertThat(c.detail()).contains("init-domain-key --generation 1"));

    char[] soPin = token.soPin();
    try {
      List<String> created =
          DomainKeyCeremony.createDomainKey(token.modulePath(), token.label(), soPin, 1);
      assertThat(created).containsExactly("domain-key-asym/1", "domain-key-hmac/1");
      assertThatThrownBy(
              () -> DomainKeyCeremony.createDomainKey(token.modulePath(), token.label(), soPin, 1))
          .isInstanceOf(HsmException.class)
          .hasMessageContaining("domain-key/1 already exists")
          .hasMessageContaining(", and domain-key-asym/1, domain-key-hmac/1");
    } finally {
      Arrays.fill(soPin, '\0');
    }

    assertThat(TokenDoctor.inspect(token.hsmConfig()).ok()).isTrue();
    hsm = Pkcs11Hsm.open(token.hsmConfig());
    WrappedKeyPair pair = hsm.generateKeyPair(KeyPairType.EC_P256, PrivateKeyUsage.SIGN);
    assertThat(pair.privateKey().domainKeyGeneration()).isEqualTo(1);
    assertThat(
            hsm.signDigest(
                pair.privateKey(),
                KeyPairType.EC_P256,
                SignatureScheme.ECDSA,
                DigestAlgorithm.SHA_256,
                new byte[32]))
        .isNotEmpty();
  }

  /** The ceremony as it was before asymmetric domain keys: {@code domain-key/1} only. */
  private void createOnlySymmetricDomainKey() throws Exception {
    PKCS11Module module = Pkcs11Modules.acquire(token.modulePath());
    char[] soPin = token.soPin();
    try {
      Session session = TokenFinder.byLabel(module, token.label()).openSession(true);
      try {
        session.login(PKCS11Constants.CKU_SO, soPin);
        session.generateKey(
            new Mechanism(PKCS11Constants.CKM_AES_KEY_GEN), KeyTemplates.domainKey(1));
        session.logout();
      } finally {
        session.closeSession();
      }
    } finally {
      Arrays.fill(soPin, '\0');
      Pkcs11Modules.release(token.modulePath());
    }
  }
}
