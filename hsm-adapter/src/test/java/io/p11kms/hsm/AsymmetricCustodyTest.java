package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.domain.DomainKeyRole;
import io.p11kms.hsm.keys.BackingKeyUse;
import io.p11kms.hsm.keys.KeyTemplates;
import io.p11kms.hsm.keys.PrivateKeyTemplates;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/**
 * Custody of private and HMAC keys, attacked with raw PKCS#11 calls in a logged-in user session (an
 * attacker with the user PIN and an EKT): the private key's secret attributes never read back, it
 * cannot be wrapped under a key the attacker made, the two domain keys do not open each other's
 * EKTs, and the asymmetric domain key's UNWRAP_TEMPLATE refuses what it pins. No object is left.
 */
class AsymmetricCustodyTest {
  private static final Mechanism KWP = new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP_PAD);
  private static final Mechanism KW = new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP);

  private static SoftHsmTestToken token;
  private static Pkcs11Hsm hsm;
  private static WrappedKeyPair rsa;
  private static WrappedKeyPair ec;
  private static WrappedKey hmac;
  private static WrappedKey hbk;
  private int objectsBefore;

  @BeforeAll
  static void openToken() {
    token = SoftHsmTestToken.create();
    hsm = Pkcs11Hsm.open(token.hsmConfig());
    rsa = hsm.generateKeyPair(KeyPairType.RSA_2048, PrivateKeyUsage.DECRYPT);
    ec = hsm.generateKeyPair(KeyPairType.EC_P256, PrivateKeyUsage.SIGN);
    hmac = hsm.generateHmacKey(HmacType.HMAC_SHA256);
    hbk = hsm.generateBackingKey();
    hsm.evictCachedBackingKeys();
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

  @BeforeEach
  void countObjects() {
    objectsBefore = hsm.visibleObjectCount();
  }

  @AfterEach
  void noObjectLeft() {
    assertThat(hsm.visibleObjectCount()).as("objects on the token").isEqualTo(objectsBefore);
  }

  @Test
  void asymmetricDomainKey_isTrustedSensitiveAndOnlyWrapsAndUnwraps() throws Exception {
    AttributeVector a =
        hsm.withSessionForTest(
            session ->
                session.getAttrValues(
                    hsm.asymDomainKeyHandleForTest(session, 1),
                    PKCS11Constants.CKA_TRUSTED,
                    PKCS11Constants.CKA_SENSITIVE,
                    PKCS11Constants.CKA_WRAP,
                    PKCS11Constants.CKA_UNWRAP,
                    PKCS11Constants.CKA_ENCRYPT,
                    PKCS11Constants.CKA_DECRYPT,
                    PKCS11Constants.CKA_SIGN,
                    PKCS11Constants.CKA_DERIVE,
                    PKCS11Constants.CKA_MODIFIABLE,
                    PKCS11Constants.CKA_VALUE));
    assertThat(a.trusted()).isTrue();
    assertThat(a.sensitive()).isTrue();
    assertThat(a.wrap()).isTrue();
    assertThat(a.unwrap()).isTrue();
    assertThat(a.encrypt()).isFalse();
    assertThat(a.decrypt()).isFalse();
    assertThat(a.sign()).isFalse();
    assertThat(a.derive()).isFalse();
    assertThat(a.modifiable()).isFalse();
    assertThat(a.value()).isNull();
  }

  @Test
  void privateKeys_unwrappedAsTheAdapterDoes_revealNoSecretAttribute() throws Exception {
    hsm.withSessionForTest(
        session -> {
          long key =
              unwrapAsym(
                  session,
                  rsa.privateKey(),
                  PrivateKeyTemplates.privateKey(
                      KeyPairType.RSA_2048, PrivateKeyUsage.DECRYPT, false));
          try {
            AttributeVector a =
                session.getAttrValues(
                    key,
                    PKCS11Constants.CKA_PRIVATE_EXPONENT,
                    PKCS11Constants.CKA_PRIME_1,
                    PKCS11Constants.CKA_PRIME_2,
                    PKCS11Constants.CKA_SENSITIVE,
                    PKCS11Constants.CKA_EXTRACTABLE,
                    PKCS11Constants.CKA_DECRYPT,
                    PKCS11Constants.CKA_SIGN,
                    PKCS11Constants.CKA_DERIVE,
                    PKCS11Constants.CKA_UNWRAP);
            assertThat(a.privateExponent()).isNull();
            assertThat(a.prime1()).isNull();
            assertThat(a.prime2()).isNull();
            assertThat(a.sensitive()).isTrue();
            assertThat(a.extractable()).isFalse();
            assertThat(a.decrypt()).isTrue();
            assertThat(a.sign()).isFalse();
            assertThat(a.derive()).isFalse();
            assertThat(a.unwrap()).isFalse();
          } finally {
            session.destroyObject(key);
          }
          long ecKey =
              unwrapAsym(
                  session,
                  ec.privateKey(),
                  PrivateKeyTemplates.privateKey(KeyPairType.EC_P256, PrivateKeyUsage.SIGN, false));
          try {
            assertThat(session.getAttrValues(ecKey, PKCS11Constants.CKA_VALUE).value()).isNull();
          } finally {
            session.destroyObject(ecKey);
          }
          return null;
        });
  }

  @Test
  void privateAndHmacKeys_doNotWrapUnderAKeyTheAttackerMade() throws Exception {
    hsm.withSessionForTest(
        session -> {
          long attacker = attackerKey(session);
          long key =
              unwrapAsym(
                  session,
                  ec.privateKey(),
                  PrivateKeyTemplates.privateKey(KeyPairType.EC_P256, PrivateKeyUsage.SIGN, true));
          long hmacKey = unwrapAsym(session, hmac, PrivateKeyTemplates.hmacKey(true));
          try {
            assertThat(errorCodeOf(() -> session.wrapKey(KWP, attacker, key)))
                .isEqualTo(PKCS11Constants.CKR_KEY_NOT_WRAPPABLE);
            assertThat(errorCodeOf(() -> session.wrapKey(KWP, attacker, hmacKey)))
                .isEqualTo(PKCS11Constants.CKR_KEY_NOT_WRAPPABLE);
            assertThat(errorCodeOf(() -> session.wrapKey(KW, attacker, hmacKey)))
                .isEqualTo(PKCS11Constants.CKR_KEY_NOT_WRAPPABLE);
          } finally {
            session.destroyObject(hmacKey);
            session.destroyObject(key);
            session.destroyObject(attacker);
          }
          return null;
        });
  }

  @Test
  void asymmetricDomainKey_wrapsNoKeyThatCanUnwrap() throws Exception {
    hsm.withSessionForTest(
        session -> {
          long asymKey = hsm.asymDomainKeyHandleForTest(session, 1);
          long unwrapping = attackerKey(session);
          org.xipki.pkcs11.wrapper.PKCS11KeyPair plain =
              session.generateKeyPair(
                  new Mechanism(PKCS11Constants.CKM_EC_KEY_PAIR_GEN),
                  new org.xipki.pkcs11.wrapper.KeyPairTemplate(
                      PrivateKeyTemplates.privateKey(
                              KeyPairType.EC_P256, PrivateKeyUsage.SIGN, true)
                          .wrapWithTrusted(false),
                      PrivateKeyTemplates.publicKey(KeyPairType.EC_P256)));
          try {
            // A domain key can unwrap; so can this key, and the WRAP_TEMPLATE refuses it.
            assertThat(errorCodeOf(() -> session.wrapKey(KWP, asymKey, unwrapping)))
                .isEqualTo(PKCS11Constants.CKR_KEY_NOT_WRAPPABLE);
            // The control: a private key, which cannot unwrap, is wrapped.
            assertThat(session.wrapKey(KWP, asymKey, plain.getPrivateKey())).isNotEmpty();
          } finally {
            session.destroyObject(plain.getPrivateKey());
            session.destroyObject(plain.getPublicKey());
            session.destroyObject(unwrapping);
          }
          return null;
        });
  }

  @Test
  void theTwoDomainKeys_doNotOpenEachOthersEkts() throws Exception {
    hsm.withSessionForTest(
        session -> {
          long domainKey = hsm.domainKeyHandleForTest(session, 1);
          long asymKey = hsm.asymDomainKeyHandleForTest(session, 1);
          // Controls: each EKT unwraps under its own domain key with these very templates.
          session.destroyObject(
              session.unwrapKey(
                  KW,
                  domainKey,
                  hbk.ekt(),
                  KeyTemplates.unwrappedBackingKey(BackingKeyUse.AES_GCM)));
          session.destroyObject(
              session.unwrapKey(
                  KWP,
                  hsm.domainKeyHandleForTest(session, DomainKeyRole.HMAC, 1),
                  hmac.ekt(),
                  PrivateKeyTemplates.hmacKey(false)));

          // An HBK EKT under the asymmetric domain key (whose UNWRAP_TEMPLATE takes private keys).
          assertThat(
                  errorCodeOf(
                      () ->
                          session.unwrapKey(
                              KW, asymKey, hbk.ekt(), PrivateKeyTemplates.hmacKey(false))))
              .isNotZero();
          // An HMAC key EKT (32 bytes, as an HBK) under the domain key, as an HBK.
          assertThat(
                  errorCodeOf(
                      () ->
                          session.unwrapKey(
                              KWP,
                              domainKey,
                              hmac.ekt(),
                              KeyTemplates.unwrappedBackingKey(BackingKeyUse.AES_GCM))))
              .isIn(integrityFailures());
          AttributeVector rsaAsHbk = KeyTemplates.unwrappedBackingKey(BackingKeyUse.AES_GCM);
          assertThat(
                  errorCodeOf(
                      () -> session.unwrapKey(KWP, domainKey, rsa.privateKey().ekt(), rsaAsHbk)))
              .isNotZero();
          return null;
        });
  }

  @Test
  void unwrapUnderTheAsymmetricDomainKey_refusesWhatItsTemplatePins() throws Exception {
    hsm.withSessionForTest(
        session -> {
          for (AttributeVector template :
              new AttributeVector[] {
                PrivateKeyTemplates.hmacKey(false).derive(true),
                PrivateKeyTemplates.hmacKey(false).unwrap(true),
                PrivateKeyTemplates.hmacKey(false).sensitive(false),
                PrivateKeyTemplates.hmacKey(false).wrapWithTrusted(false),
                PrivateKeyTemplates.hmacKey(false).modifiable(true),
              }) {
            assertThat(errorCodeOf(() -> unwrapAsym(session, hmac, template)))
                .as(template.toString())
                .isEqualTo(PKCS11Constants.CKR_TEMPLATE_INCONSISTENT);
          }
          for (AttributeVector template :
              new AttributeVector[] {
                PrivateKeyTemplates.privateKey(KeyPairType.EC_P256, PrivateKeyUsage.SIGN, false)
                    .derive(true),
                PrivateKeyTemplates.privateKey(KeyPairType.EC_P256, PrivateKeyUsage.SIGN, false)
                    .sensitive(false),
                PrivateKeyTemplates.privateKey(KeyPairType.EC_P256, PrivateKeyUsage.SIGN, false)
                    .unwrap(true),
              }) {
            assertThat(errorCodeOf(() -> unwrapAsym(session, ec.privateKey(), template)))
                .as(template.toString())
                .isEqualTo(PKCS11Constants.CKR_TEMPLATE_INCONSISTENT);
          }
          // A private key has no CKA_ENCRYPT or CKA_WRAP: SoftHSM2 refuses them outright, but
          // leaves a half-made session object behind (found and destroyed here).
          long[] before = session.findAllObjectsSingle(new AttributeVector().token(false));
          for (long attribute :
              new long[] {PKCS11Constants.CKA_ENCRYPT, PKCS11Constants.CKA_WRAP}) {
            AttributeVector template =
                AttributeVector.newECPrivateKey()
                    .token(false)
                    .private_(true)
                    .sensitive(true)
                    .extractable(false)
                    .wrapWithTrusted(true)
                    .sign(true)
                    .unwrap(false)
                    .derive(false)
                    .attr(attribute, true)
                    .modifiable(false);
            assertThat(errorCodeOf(() -> unwrapAsym(session, ec.privateKey(), template)))
                .isEqualTo(PKCS11Constants.CKR_ATTRIBUTE_TYPE_INVALID);
          }
          for (long left : session.findAllObjectsSingle(new AttributeVector().token(false))) {
            if (java.util.Arrays.stream(before).noneMatch(b -> b == left)) {
              assertThat(session.getAttrValues(left, PKCS11Constants.CKA_SENSITIVE).sensitive())
                  .isTrue();
              session.destroyObject(left);
            }
          }
          return null;
        });
  }

  private static Long[] integrityFailures() {
    return new Long[] {
      PKCS11Constants.CKR_WRAPPED_KEY_INVALID,
      PKCS11Constants.CKR_ENCRYPTED_DATA_INVALID,
      PKCS11Constants.CKR_GENERAL_ERROR
    };
  }

  private static long unwrapAsym(Session session, WrappedKey ekt, AttributeVector template)
      throws PKCS11Exception {
    return session.unwrapKey(
        KWP, hsm.domainKeyHandleForTest(session, ekt.role(), 1), ekt.ekt(), template);
  }

  /** An AES key the attacker makes: an ordinary user key, so not TRUSTED. */
  private static long attackerKey(Session session) throws PKCS11Exception {
    return session.generateKey(
        new Mechanism(PKCS11Constants.CKM_AES_KEY_GEN),
        AttributeVector.newAESSecretKey()
            .valueLen(32)
            .token(false)
            .sensitive(false)
            .extractable(true)
            .wrap(true)
            .unwrap(true)
            .encrypt(true)
            .decrypt(true));
  }

  private interface Call {
    Object run() throws PKCS11Exception;
  }

  /**
   * The error code of a PKCS#11 call, or 0 when it succeeded (then whatever it made is destroyed).
   */
  private static long errorCodeOf(Call call) {
    try {
      call.run();
      return 0;
    } catch (PKCS11Exception e) {
      return e.getErrorCode();
    }
  }
}
