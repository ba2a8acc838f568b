package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.p11kms.hsm.domain.DomainKeyRole;
import io.p11kms.hsm.keys.BackingKeyUse;
import io.p11kms.hsm.keys.KeyTemplates;
import io.p11kms.hsm.session.Pkcs11Errors;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.KeyPairTemplate;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11KeyPair;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.params.GCM_PARAMS;
import org.xipki.pkcs11.wrapper.params.RSA_PKCS_OAEP_PARAMS;

/**
 * Replays the known PKCS#11 API attacks on key custody with a logged-in user session, as an
 * attacker who holds the user PIN and an EKT would, and expects every one to fail. What it shows:
 * the HBK never leaves the token in plaintext, and the domain key does nothing but wrap and unwrap,
 * and leaves the token only wrapped under a key the SO marked TRUSTED.
 */
class CustodyTest {
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

  private static Mechanism aesKeyWrap() {
    return new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP);
  }

  private static long unwrap(Session session, AttributeVector template) throws PKCS11Exception {
    long domainKey = hsm.domainKeyHandleForTest(session, 1);
    return session.unwrapKey(aesKeyWrap(), domainKey, backingKey.ekt(), template);
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

  /** The error code of a PKCS#11 call, or 0 when it succeeded. */
  private interface Call {
    void run() throws PKCS11Exception;
  }

  private static long errorCodeOf(Call call) {
    try {
      call.run();
      return 0;
    } catch (PKCS11Exception e) {
      return e.getErrorCode();
    }
  }

  @Test
  void unwrappedBackingKey_valueIsUnreadable() throws Exception {
    hsm.withSessionForTest(
        session -> {
          long hbk = unwrap(session, KeyTemplates.unwrappedBackingKey(BackingKeyUse.AES_GCM));
          try {
            assertValueUnreadable(session, hbk);
          } finally {
            session.destroyObject(hbk);
          }
          return null;
        });
  }

  @Test
  void unwrappedBackingKey_isAPrivateSessionObject_sensitive_notExtractable() throws Exception {
    hsm.withSessionForTest(
        session -> {
          long hbk = unwrap(session, KeyTemplates.unwrappedBackingKey(BackingKeyUse.AES_GCM));
          try {
            AttributeVector attributes =
                session.getAttrValues(
                    hbk,
                    PKCS11Constants.CKA_TOKEN,
                    PKCS11Constants.CKA_PRIVATE,
                    PKCS11Constants.CKA_SENSITIVE,
                    PKCS11Constants.CKA_EXTRACTABLE,
                    PKCS11Constants.CKA_MODIFIABLE);
            assertThat(attributes.token()).as("a session object").isFalse();
            assertThat(attributes.private_()).isTrue();
            assertThat(attributes.sensitive()).isTrue();
            assertThat(attributes.extractable()).isFalse();
            assertThat(attributes.modifiable()).isFalse();
          } finally {
            session.destroyObject(hbk);
          }
          return null;
        });
  }

  @Test
  void cachedBackingKey_isAPublicSessionObject_unreadableAndUnwrappableFromAnotherSession()
      throws Exception {
    encryptOnce();
    hsm.withSessionForTest(
        session -> {
          long[] cached = sessionSecretKeys(session);
          assertThat(cached).as("the cached HBK, seen from a pooled session").hasSize(1);
          long hbk = cached[0];
          long attacker = attackerKey(session);
          try {
            AttributeVector attributes =
                session.getAttrValues(
                    hbk,
                    PKCS11Constants.CKA_PRIVATE,
                    PKCS11Constants.CKA_SENSITIVE,
                    PKCS11Constants.CKA_EXTRACTABLE,
                    PKCS11Constants.CKA_MODIFIABLE);
            assertThat(attributes.private_()).as("public on SoftHSM2").isFalse();
            assertThat(attributes.sensitive()).isTrue();
            assertThat(attributes.extractable()).isFalse();
            assertThat(attributes.modifiable()).isFalse();
            assertValueUnreadable(session, hbk);
            assertThat(errorCodeOf(() -> session.wrapKey(aesKeyWrap(), attacker, hbk))).isNotZero();
            long domainKey = hsm.domainKeyHandleForTest(session, 1);
            assertThat(errorCodeOf(() -> session.wrapKey(aesKeyWrap(), domainKey, hbk)))
                .isNotZero();
            assertThat(
                    errorCodeOf(
                        () ->
                            session.setAttributeValues(
                                hbk, new AttributeVector().extractable(true))))
                .isNotZero();
          } finally {
            session.destroyObject(attacker);
          }
          return null;
        });
  }

  @Test
  void cachedBackingKey_isInvisibleToAnotherProcessWithTheUserPin() throws Exception {
    encryptOnce();
    int tokenSecretKeys =
        hsm.withSessionForTest(
            session -> {
              assertThat(sessionSecretKeys(session))
                  .as("a cached HBK in this process")
                  .isNotEmpty();
              return session.findObjectsSingle(
                      new AttributeVector().class_(PKCS11Constants.CKO_SECRET_KEY).token(true), 100)
                  .length;
            });
    String pin = Files.readString(token.userPinFile()).strip();
    ProcessBuilder builder =
        new ProcessBuilder(
            "pkcs11-tool",
            "--module",
            token.modulePath().toString(),
            "--token-label",
            token.label(),
            "--login",
            "--pin",
            pin,
            "--list-objects",
            "--type",
            "secrkey");
    builder.environment().put("SOFTHSM2_CONF", token.confPath().toString());
    builder.redirectErrorStream(true);
    Process process = builder.start();
    String listed = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor()).as("pkcs11-tool's exit code").isZero();
    assertThat(listed.split("Secret Key Object", -1))
        .as("the token's secret keys another process finds: its token objects, no session object")
        .hasSize(tokenSecretKeys + 1);
  }

  /** One encrypt through the adapter: its HBK is unwrapped into the cache. */
  private static void encryptOnce() {
    hsm.evictCachedBackingKeys();
    byte[] salt = new byte[Hsm.SALT_LENGTH];
    byte[] iv = new byte[Hsm.IV_LENGTH];
    hsm.encrypt(backingKey, hsm.preferredDerivation(), salt, iv, new byte[0], new byte[] {1});
  }

  /** The HBKs among this process's session objects (secret keys that encrypt and cannot wrap). */
  private static long[] sessionSecretKeys(Session session) throws PKCS11Exception {
    return session.findObjectsSingle(
        new AttributeVector()
            .class_(PKCS11Constants.CKO_SECRET_KEY)
            .token(false)
            .encrypt(true)
            .wrap(false),
        100);
  }

  @Test
  void unwrapWithExtractableNonSensitiveTemplate_failsOrYieldsSensitiveKey() throws Exception {
    AttributeVector weak =
        AttributeVector.newAESSecretKey()
            .token(false)
            .sensitive(false)
            .extractable(true)
            .encrypt(true)
            .decrypt(true)
            .derive(true);
    hsm.withSessionForTest(
        session -> {
          long hbk;
          try {
            hbk = unwrap(session, weak);
          } catch (PKCS11Exception e) {
            assertThat(Pkcs11Errors.name(e.getErrorCode())).isEqualTo("CKR_TEMPLATE_INCONSISTENT");
            return null;
          }
          try {
            assertThat(session.getAttrValues(hbk, PKCS11Constants.CKA_SENSITIVE).sensitive())
                .isTrue();
            assertValueUnreadable(session, hbk);
          } finally {
            session.destroyObject(hbk);
          }
          return null;
        });
  }

  @Test
  void unwrapWithoutWrapWithTrusted_failsOrYieldsWrapWithTrustedKey() throws Exception {
    AttributeVector weak =
        AttributeVector.newAESSecretKey()
            .token(false)
            .sensitive(true)
            .extractable(true)
            .wrapWithTrusted(false);
    hsm.withSessionForTest(
        session -> {
          long hbk;
          try {
            hbk = unwrap(session, weak);
          } catch (PKCS11Exception e) {
            assertThat(Pkcs11Errors.name(e.getErrorCode())).isEqualTo("CKR_TEMPLATE_INCONSISTENT");
            return null;
          }
          try {
            assertThat(
                    session
                        .getAttrValues(hbk, PKCS11Constants.CKA_WRAP_WITH_TRUSTED)
                        .wrapWithTrusted())
                .isTrue();
          } finally {
            session.destroyObject(hbk);
          }
          return null;
        });
  }

  @Test
  void wrapUnderAttackerKey_failsNotWrappable() throws Exception {
    // The attacker unwraps the EKT as extractable (the unwrap template allows that) and tries to
    // re-wrap the HBK under a key whose bytes they know.
    // The one extractable form the domain key's unwrap template allows (the re-wrap's).
    AttributeVector extractable = KeyTemplates.rewrappableBackingKey(BackingKeyUse.AES_GCM);
    hsm.withSessionForTest(
        session -> {
          long hbk = unwrap(session, extractable);
          long attacker = attackerKey(session);
          try {
            assertThat(errorCodeOf(() -> session.wrapKey(aesKeyWrap(), attacker, hbk)))
                .isEqualTo(PKCS11Constants.CKR_KEY_NOT_WRAPPABLE);
            assertThat(
                    errorCodeOf(
                        () ->
                            session.wrapKey(
                                new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP_PAD),
                                attacker,
                                hbk)))
                .isEqualTo(PKCS11Constants.CKR_KEY_NOT_WRAPPABLE);
          } finally {
            session.destroyObject(attacker);
            session.destroyObject(hbk);
          }
          return null;
        });
  }

  @Test
  void freshBackingKey_wrapsOnlyUnderTheDomainKey() throws Exception {
    hsm.withSessionForTest(
        session -> {
          long hbk =
              session.generateKey(
                  new Mechanism(PKCS11Constants.CKM_AES_KEY_GEN),
                  KeyTemplates.newBackingKey(BackingKeyUse.AES_GCM));
          long attacker = attackerKey(session);
          try {
            assertValueUnreadable(session, hbk);
            assertThat(errorCodeOf(() -> session.wrapKey(aesKeyWrap(), attacker, hbk)))
                .isEqualTo(PKCS11Constants.CKR_KEY_NOT_WRAPPABLE);
            byte[] ekt = session.wrapKey(aesKeyWrap(), hsm.domainKeyHandleForTest(session, 1), hbk);
            assertThat(ekt).hasSize(40);
          } finally {
            session.destroyObject(attacker);
            session.destroyObject(hbk);
          }
          return null;
        });
  }

  @Test
  void backingKey_sensitiveAndExtractableCannotBeFlipped() throws Exception {
    hsm.withSessionForTest(
        session -> {
          long hbk =
              session.generateKey(
                  new Mechanism(PKCS11Constants.CKM_AES_KEY_GEN),
                  KeyTemplates.newBackingKey(BackingKeyUse.AES_GCM));
          try {
            assertThat(
                    errorCodeOf(
                        () ->
                            session.setAttributeValues(
                                hbk, new AttributeVector().sensitive(false))))
                .isNotZero();
            assertThat(
                    errorCodeOf(
                        () ->
                            session.setAttributeValues(
                                hbk, new AttributeVector().wrapWithTrusted(false))))
                .isNotZero();
            assertThat(
                    errorCodeOf(
                        () -> session.setAttributeValues(hbk, new AttributeVector().trusted(true))))
                .isNotZero();
            assertValueUnreadable(session, hbk);
          } finally {
            session.destroyObject(hbk);
          }
          return null;
        });
  }

  @Test
  void domainKey_cannotEncryptDecryptOrBeExported() throws Exception {
    hsm.withSessionForTest(
        session -> {
          long domainKey = hsm.domainKeyHandleForTest(session, 1);
          AttributeVector attributes =
              session.getAttrValues(
                  domainKey,
                  PKCS11Constants.CKA_ENCRYPT,
                  PKCS11Constants.CKA_DECRYPT,
                  PKCS11Constants.CKA_SIGN,
                  PKCS11Constants.CKA_VERIFY,
                  PKCS11Constants.CKA_DERIVE,
                  PKCS11Constants.CKA_SENSITIVE,
                  PKCS11Constants.CKA_EXTRACTABLE,
                  PKCS11Constants.CKA_WRAP_WITH_TRUSTED,
                  PKCS11Constants.CKA_TRUSTED,
                  PKCS11Constants.CKA_WRAP,
                  PKCS11Constants.CKA_UNWRAP,
                  PKCS11Constants.CKA_TOKEN);
          assertThat(attributes.encrypt()).isFalse();
          assertThat(attributes.decrypt()).isFalse();
          assertThat(attributes.sign()).isFalse();
          assertThat(attributes.verify()).isFalse();
          assertThat(attributes.derive()).isFalse();
          assertThat(attributes.sensitive()).isTrue();
          // Extractable for the domain join, but only under a TRUSTED key (made only by the SO).
          assertThat(attributes.extractable()).isTrue();
          assertThat(attributes.wrapWithTrusted()).isTrue();
          assertThat(attributes.trusted()).isTrue();
          assertThat(attributes.wrap()).isTrue();
          assertThat(attributes.unwrap()).isTrue();
          assertThat(attributes.token()).isTrue();

          Mechanism gcm =
              new Mechanism(
                  PKCS11Constants.CKM_AES_GCM, new GCM_PARAMS(new byte[12], new byte[0], 128));
          assertThat(errorCodeOf(() -> session.encryptInit(gcm, domainKey)))
              .isEqualTo(PKCS11Constants.CKR_KEY_FUNCTION_NOT_PERMITTED);
          assertThat(errorCodeOf(() -> session.decryptInit(gcm, domainKey)))
              .isEqualTo(PKCS11Constants.CKR_KEY_FUNCTION_NOT_PERMITTED);
          assertThat(
                  errorCodeOf(
                      () ->
                          session.decryptInit(
                              new Mechanism(PKCS11Constants.CKM_AES_ECB), domainKey)))
              .isEqualTo(PKCS11Constants.CKR_KEY_FUNCTION_NOT_PERMITTED);
          assertValueUnreadable(session, domainKey);
          assertThat(
                  errorCodeOf(
                      () ->
                          session.setAttributeValues(
                              domainKey, new AttributeVector().wrapWithTrusted(false))))
              .isNotZero();
          assertThat(
                  errorCodeOf(
                      () ->
                          session.setAttributeValues(
                              domainKey, new AttributeVector().sensitive(false))))
              .isNotZero();
          assertThat(
                  errorCodeOf(
                      () ->
                          session.setAttributeValues(
                              domainKey, new AttributeVector().decrypt(true))))
              .isNotZero();
          assertThat(
                  errorCodeOf(
                      () ->
                          session.copyObject(
                              domainKey,
                              new AttributeVector().label("copy").token(false).decrypt(true))))
              .isNotZero();
          assertThat(errorCodeOf(() -> session.destroyObject(domainKey))).isNotZero();
          long attacker = attackerKey(session);
          try {
            assertThat(errorCodeOf(() -> session.wrapKey(aesKeyWrap(), attacker, domainKey)))
                .isEqualTo(PKCS11Constants.CKR_KEY_NOT_WRAPPABLE);
          } finally {
            session.destroyObject(attacker);
          }
          return null;
        });
  }

  @Test
  void domainKey_wrapUnderAnUntrustedRsaKey_failsNotWrappable() throws Exception {
    // The domain-join route with a transport key the attacker made: a user session cannot mark it
    // TRUSTED, so the token refuses to wrap the domain key under it.
    hsm.withSessionForTest(
        session -> {
          long domainKey = hsm.domainKeyHandleForTest(session, 1);
          PKCS11KeyPair pair =
              session.generateKeyPair(
                  new Mechanism(PKCS11Constants.CKM_RSA_PKCS_KEY_PAIR_GEN),
                  new KeyPairTemplate(
                      AttributeVector.newRSAPrivateKey().token(false).unwrap(true),
                      AttributeVector.newRSAPublicKey()
                          .token(false)
                          .modulusBits(2048)
                          .publicExponent(BigInteger.valueOf(65537))
                          .wrap(true)));
          try {
            Mechanism oaep =
                new Mechanism(
                    PKCS11Constants.CKM_RSA_PKCS_OAEP,
                    new RSA_PKCS_OAEP_PARAMS(
                        PKCS11Constants.CKM_SHA_1, PKCS11Constants.CKG_MGF1_SHA1));
            assertThat(errorCodeOf(() -> session.wrapKey(oaep, pair.getPublicKey(), domainKey)))
                .isEqualTo(PKCS11Constants.CKR_KEY_NOT_WRAPPABLE);
          } finally {
            session.destroyObject(pair.getPublicKey());
            session.destroyObject(pair.getPrivateKey());
          }
          return null;
        });
  }

  @Test
  void userSession_cannotMakeATrustedKey() throws Exception {
    hsm.withSessionForTest(
        session -> {
          assertThat(
                  errorCodeOf(
                      () ->
                          session.generateKey(
                              new Mechanism(PKCS11Constants.CKM_AES_KEY_GEN),
                              AttributeVector.newAESSecretKey()
                                  .valueLen(32)
                                  .token(false)
                                  .trusted(true)
                                  .wrap(true))))
              .isEqualTo(PKCS11Constants.CKR_ATTRIBUTE_READ_ONLY);
          long attacker = attackerKey(session);
          try {
            assertThat(
                    errorCodeOf(
                        () ->
                            session.setAttributeValues(
                                attacker, new AttributeVector().trusted(true))))
                .isEqualTo(PKCS11Constants.CKR_ATTRIBUTE_READ_ONLY);
          } finally {
            session.destroyObject(attacker);
          }
          return null;
        });
  }

  @Test
  void domainKey_cannotWrapItselfOrAnotherDomainKey() throws Exception {
    // Without its WRAP_TEMPLATE (AES keys that ENCRYPT and DECRYPT only) a user session could wrap
    // the domain key under itself and unwrap the bytes into a key holding the domain key's
    // material.
    hsm.withSessionForTest(
        session -> {
          long domainKey = hsm.domainKeyHandleForTest(session, 1);
          assertThat(errorCodeOf(() -> session.wrapKey(aesKeyWrap(), domainKey, domainKey)))
              .isEqualTo(PKCS11Constants.CKR_KEY_NOT_WRAPPABLE);
          assertThat(
                  session
                      .getAttrValues(domainKey, PKCS11Constants.CKA_WRAP_TEMPLATE)
                      .wrapTemplate()
                      .encrypt())
              .isTrue();
          return null;
        });
  }

  @Test
  void domainKey_refusesEvenAnUnchangedSessionCopy() throws Exception {
    // Not COPYABLE, so no copy at all: not one that relaxes a usage, and not the session copy the
    // service itself would unwrap under to spare SoftHSM2 its file checks of a token object
    // (docs/token.md). Every role's domain key.
    hsm.withSessionForTest(
        session -> {
          for (DomainKeyRole role : DomainKeyRole.values()) {
            long domainKey = hsm.domainKeyHandleForTest(session, role, 1);
            assertThat(
                    errorCodeOf(
                        () -> session.copyObject(domainKey, new AttributeVector().token(false))))
                .as(role.label(1))
                .isEqualTo(PKCS11Constants.CKR_ACTION_PROHIBITED);
          }
          return null;
        });
  }

  @Test
  void domainKey_cannotDecryptAnEktAsData() throws Exception {
    // The classic wrap-then-decrypt hole: decrypt the EKT with the domain key as if it were data.
    hsm.withSessionForTest(
        session -> {
          long domainKey = hsm.domainKeyHandleForTest(session, 1);
          PKCS11Exception e =
              catchThrowableOfType(
                  PKCS11Exception.class,
                  () ->
                      session.decryptSingle(
                          new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP),
                          domainKey,
                          backingKey.ekt()));
          assertThat(e).isNotNull();
          return null;
        });
  }

  private static void assertValueUnreadable(Session session, long key) {
    byte[] value;
    try {
      value = session.getAttrValues(key, PKCS11Constants.CKA_VALUE).value();
    } catch (PKCS11Exception e) {
      assertThat(e.getErrorCode()).isEqualTo(PKCS11Constants.CKR_ATTRIBUTE_SENSITIVE);
      return;
    }
    assertThat(value).isNullOrEmpty();
  }
}
