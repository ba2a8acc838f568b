package io.p11kms.hsm.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.keys.KeyTemplates;
import io.p11kms.hsm.session.Pkcs11Modules;
import io.p11kms.hsm.session.TokenFinder;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11Module;
import org.xipki.pkcs11.wrapper.Session;

/**
 * The proof key of each shape of domain key template, on SoftHSM2: made and wrapped under a domain
 * key of that template, it unwraps under the same key and under no other. The shapes: the
 * ceremony's kinds as they are, a template pinning private keys (the proof is an EC key, wrapped
 * with padding) and one pinning generic secrets.
 */
class ProofKeyTest {
  private static SoftHsmTestToken token;

  @BeforeAll
  static void open() {
    token = SoftHsmTestToken.create();
  }

  @AfterAll
  static void close() {
    if (token != null) {
      token.close();
    }
  }

  @Test
  void eachKindOfTheCeremony_provesItsOwnKeyOnly() throws Exception {
    for (DomainKeyRole role : DomainKeyRole.values()) {
      provesOwnKeyOnly(role.template(90 + role.ordinal()));
    }
  }

  @Test
  void aTemplatePinningPrivateKeys_isProvedWithAnEcKey() throws Exception {
    AttributeVector pins =
        new AttributeVector()
            .class_(PKCS11Constants.CKO_PRIVATE_KEY)
            .sensitive(true)
            .wrapWithTrusted(true)
            .unwrap(false)
            .derive(false)
            .modifiable(false);
    AttributeVector domainKey =
        KeyTemplates.asymDomainKey(80)
            .wrapTemplate(
                new AttributeVector()
                    .class_(PKCS11Constants.CKO_PRIVATE_KEY)
                    .unwrap(false)
                    .derive(false))
            .unwrapTemplate(pins);
    assertThat(ProofKey.of(domainKey).wrapMechanism().getMechanismCode())
        .isEqualTo(PKCS11Constants.CKM_AES_KEY_WRAP_PAD);
    provesOwnKeyOnly(domainKey);
  }

  @Test
  void aTemplatePinningGenericSecrets_isProvedWithAGenericSecret() throws Exception {
    AttributeVector domainKey =
        KeyTemplates.asymDomainKey(81)
            .wrapTemplate(
                new AttributeVector()
                    .class_(PKCS11Constants.CKO_SECRET_KEY)
                    .keyType(PKCS11Constants.CKK_GENERIC_SECRET)
                    .sign(true)
                    .unwrap(false))
            .unwrapTemplate(
                new AttributeVector()
                    .class_(PKCS11Constants.CKO_SECRET_KEY)
                    .keyType(PKCS11Constants.CKK_GENERIC_SECRET)
                    .sensitive(true)
                    .wrapWithTrusted(true)
                    .sign(true)
                    .verify(true)
                    .encrypt(false)
                    .decrypt(false)
                    .unwrap(false)
                    .derive(false)
                    .modifiable(false));
    provesOwnKeyOnly(domainKey);
  }

  /**
   * As the join does it, in an SO session: the proof EKT made under a domain key of {@code
   * template} unwraps under that key, and not under another key of the same template.
   */
  private static void provesOwnKeyOnly(AttributeVector template) throws Exception {
    char[] pin = token.soPin();
    PKCS11Module module = Pkcs11Modules.acquire(token.modulePath());
    try {
      Session session = TokenFinder.byLabel(module, token.label()).openSession(true);
      try {
        session.login(PKCS11Constants.CKU_SO, pin);
        AttributeVector asSessionObject = copyAsSessionObject(template);
        Mechanism aesKeyGen = new Mechanism(PKCS11Constants.CKM_AES_KEY_GEN);
        long domainKey = session.generateKey(aesKeyGen, asSessionObject);
        long other = session.generateKey(aesKeyGen, copyAsSessionObject(template));
        ProofKey proofKey = ProofKey.of(template);
        long proof = proofKey.generate(session);
        byte[] ekt = session.wrapKey(proofKey.wrapMechanism(), domainKey, proof);
        session.destroyObject(proof);

        long unwrapped =
            session.unwrapKey(proofKey.wrapMechanism(), domainKey, ekt, proofKey.onTarget());
        assertThat(session.getAttrValues(unwrapped, PKCS11Constants.CKA_EXTRACTABLE).extractable())
            .isFalse();
        session.destroyObject(unwrapped);
        assertThatThrownBy(
                () -> session.unwrapKey(proofKey.wrapMechanism(), other, ekt, proofKey.onTarget()))
            .isInstanceOf(PKCS11Exception.class);
        session.logout();
      } finally {
        session.closeSession();
      }
    } finally {
      Pkcs11Modules.release(token.modulePath());
      Arrays.fill(pin, '\0');
    }
  }

  /**
   * {@code template} as a session object (its copies die with the session; they are not
   * destroyable).
   */
  private static AttributeVector copyAsSessionObject(AttributeVector template) {
    AttributeVector copy = new AttributeVector();
    template.snapshot().stream()
        .filter(a -> a.type() != PKCS11Constants.CKA_MODIFIABLE)
        .forEach(
            a -> copy.attr(a.type(), a.type() == PKCS11Constants.CKA_TOKEN ? false : a.getValue()));
    return copy.modifiable(false);
  }
}
