package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.keys.BackingKeyUse;
import io.p11kms.hsm.keys.KeyTemplates;
import io.p11kms.hsm.keys.PrivateKeyTemplates;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.params.AES_CBC_ENCRYPT_DATA_PARAMS;
import org.xipki.pkcs11.wrapper.params.KEY_DERIVATION_STRING_DATA;

/**
 * The PKCS#11 API attacks {@link CustodyTest} does not replay: on the audit signing key (read its
 * value, relax SENSITIVE or EXTRACTABLE, copy it out, wrap it under an attacker's key or the domain
 * key, plant a second key with its label but other attributes), on an unwrapped HBK (make it
 * EXTRACTABLE again, copy it with SENSITIVE off, use it as a wrapping or decryption key) and on the
 * domain key (decrypt an EKT as data with the other AES modes). Every one must fail.
 */
class TokenHardeningTest {
  private static final String AUDIT_KEY = "audit-key";
  private static SoftHsmTestToken token;
  private static Pkcs11Hsm hsm;
  private static WrappedKey backingKey;

  @BeforeAll
  static void openToken() {
    token = SoftHsmTestToken.create();
    hsm = Pkcs11Hsm.open(token.hsmConfig());
    backingKey = hsm.generateBackingKey();
    hsm.createSigningKeyIfAbsent(AUDIT_KEY);
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
  void auditKey_valueUnreadable_attributesCannotBeRelaxed_cannotBeCopiedOrWrappedOut()
      throws Exception {
    hsm.withSessionForTest(
        session -> {
          long key = auditKey(session);
          assertValueUnreadable(session, key);
          AttributeVector a =
              session.getAttrValues(
                  key,
                  PKCS11Constants.CKA_SENSITIVE,
                  PKCS11Constants.CKA_EXTRACTABLE,
                  PKCS11Constants.CKA_ENCRYPT,
                  PKCS11Constants.CKA_DECRYPT,
                  PKCS11Constants.CKA_WRAP,
                  PKCS11Constants.CKA_TOKEN);
          assertThat(a.sensitive()).isTrue();
          assertThat(a.extractable()).isFalse();
          assertThat(a.encrypt()).isFalse();
          assertThat(a.decrypt()).isFalse();
          assertThat(a.wrap()).isFalse();
          assertThat(a.token()).isTrue();
          assertFails(
              () -> session.setAttributeValues(key, new AttributeVector().sensitive(false)));
          assertFails(
              () -> session.setAttributeValues(key, new AttributeVector().extractable(true)));
          assertFails(() -> session.setAttributeValues(key, new AttributeVector().wrap(true)));
          assertCopyFailsOrStaysLocked(session, key);
          long attacker = attackerKey(session);
          try {
            assertFails(() -> session.wrapKey(aesKeyWrap(), attacker, key));
          } finally {
            session.destroyObject(attacker);
          }
          long domainKey = hsm.domainKeyHandleForTest(session, 1);
          assertFails(() -> session.wrapKey(aesKeyWrap(), domainKey, key));
          return null;
        });
  }

  @Test
  void plantedKeysWithTheAuditLabel_butNotMadeAsTheAuditKey_areNeverUsed() throws Exception {
    byte[] data = "checkpoint".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] genuine = hsm.sign(AUDIT_KEY, data);
    byte[] known = new byte[32];
    java.util.Arrays.fill(known, (byte) 7);
    List<Long> planted = new ArrayList<>();
    try {
      hsm.withSessionForTest(
          session -> {
            // Once readable (ALWAYS_SENSITIVE false), though sensitive now.
            planted.add(
                generate(session, PrivateKeyTemplates.signingKey(AUDIT_KEY).sensitive(false)));
            // Once extractable (NEVER_EXTRACTABLE false).
            planted.add(
                generate(session, PrivateKeyTemplates.signingKey(AUDIT_KEY).extractable(true)));
            // Public: any session may use it.
            planted.add(
                generate(session, PrivateKeyTemplates.signingKey(AUDIT_KEY).private_(false)));
            // Imported with a value its maker knows (LOCAL false), sensitive and not extractable.
            planted.add(session.createObject(imported(AUDIT_KEY, known)));
            return null;
          });
      assertThat(hsm.sign(AUDIT_KEY, data)).isEqualTo(genuine);
      assertThat(hsm.verify(AUDIT_KEY, data, hmac(known, data))).isFalse();
    } finally {
      destroy(planted);
    }
  }

  @Test
  void plantedImportedKey_beforeTheAuditKeyExists_isIgnored_andAGenuineOneMade() throws Exception {
    String label = "audit-key-fresh";
    byte[] data = "checkpoint".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] known = new byte[32];
    java.util.Arrays.fill(known, (byte) 9);
    long planted = hsm.withSessionForTest(session -> session.createObject(imported(label, known)));
    try {
      hsm.createSigningKeyIfAbsent(label);
      byte[] mac = hsm.sign(label, data);
      assertThat(mac).isNotEqualTo(hmac(known, data));
    } finally {
      destroy(List.of(planted));
    }
  }

  @Test
  void aSecondKeyMadeExactlyAsTheAuditKey_makesSigningFail_ratherThanPickOne() throws Exception {
    byte[] data = "checkpoint".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] genuine = hsm.sign(AUDIT_KEY, data);
    long twin =
        hsm.withSessionForTest(
            session -> generate(session, PrivateKeyTemplates.signingKey(AUDIT_KEY)));
    try {
      // The key found by the last search signs until the next (at most a minute later, see
      // SigningKeySearchTest): the genuine one, never the twin. The next search refuses, here
      // the first of the handles a restarted service starts with.
      for (int i = 0; i < 5; i++) {
        assertThat(hsm.sign(AUDIT_KEY, data)).isEqualTo(genuine);
      }
      SigningKeyHandles restarted =
          new SigningKeyHandles(hsm.callsForTest(), hsm.capabilities().marksGeneratedKeysLocal());
      assertThatThrownBy(
              () -> hsm.withSessionForTest(session -> restarted.handle(session, AUDIT_KEY, 0)))
          .isInstanceOf(HsmException.class)
          .hasMessageContaining("2 signing keys");
    } finally {
      destroy(List.of(twin));
    }
    assertThat(hsm.sign(AUDIT_KEY, data)).isEqualTo(genuine);
  }

  /** A signing key with a value its maker knows, otherwise as the audit key. */
  private static AttributeVector imported(String label, byte[] value) {
    return AttributeVector.newSecretKey(PKCS11Constants.CKK_GENERIC_SECRET)
        .label(label)
        .token(true)
        .private_(true)
        .sensitive(true)
        .extractable(false)
        .sign(true)
        .verify(true)
        .value(value);
  }

  private static long generate(Session session, AttributeVector template) throws PKCS11Exception {
    return session.generateKey(new Mechanism(PKCS11Constants.CKM_GENERIC_SECRET_KEY_GEN), template);
  }

  private static void destroy(List<Long> objects) throws PKCS11Exception {
    hsm.withSessionForTest(
        session -> {
          for (long object : objects) {
            session.destroyObject(object);
          }
          return null;
        });
  }

  private static byte[] hmac(byte[] key, byte[] data) throws Exception {
    javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
    mac.init(new javax.crypto.spec.SecretKeySpec(key, "HmacSHA256"));
    return mac.doFinal(data);
  }

  @Test
  void unwrappedBackingKey_cannotBeMadeExtractable_copiedOut_orUsedToWrapOrDecrypt()
      throws Exception {
    hsm.withSessionForTest(
        session -> {
          long domainKey = hsm.domainKeyHandleForTest(session, 1);
          long hbk =
              session.unwrapKey(
                  aesKeyWrap(),
                  domainKey,
                  backingKey.ekt(),
                  KeyTemplates.unwrappedBackingKey(BackingKeyUse.AES_GCM));
          try {
            assertThat(session.getAttrValues(hbk, PKCS11Constants.CKA_EXTRACTABLE).extractable())
                .isFalse();
            assertFails(
                () -> session.setAttributeValues(hbk, new AttributeVector().extractable(true)));
            assertFails(
                () -> session.setAttributeValues(hbk, new AttributeVector().sensitive(false)));
            assertCopyFailsOrStaysLocked(session, hbk);
            assertValueUnreadable(session, hbk);
            long attacker = attackerKey(session);
            try {
              assertFails(() -> session.wrapKey(aesKeyWrap(), attacker, hbk));
              // The HBK as a wrapping key, then as a decryption key: neither is allowed.
              assertFails(() -> session.wrapKey(aesKeyWrap(), hbk, attacker));
              assertFails(
                  () -> session.decryptInit(new Mechanism(PKCS11Constants.CKM_AES_ECB), hbk));
            } finally {
              session.destroyObject(attacker);
            }
          } finally {
            session.destroyObject(hbk);
          }
          return null;
        });
  }

  /**
   * An attacker holding the user PIN and an EKT asks for the HBK with DERIVE on, without its
   * mechanism pin, or with other usages: the domain key's UNWRAP_TEMPLATE pins every usage, so the
   * token refuses the unwrap.
   */
  @Test
  void attackerUnwrapTemplate_withAnotherUsage_isRefused() throws Exception {
    AttributeVector[] weakTemplates = {
      attackerTemplate().derive(true),
      attackerTemplate().encrypt(true),
      attackerTemplate().decrypt(true),
      attackerTemplate().wrap(true),
      attackerTemplate().sign(true),
      attackerTemplate().modifiable(true),
    };
    hsm.withSessionForTest(
        session -> {
          long domainKey = hsm.domainKeyHandleForTest(session, 1);
          for (AttributeVector weak : weakTemplates) {
            assertFails(() -> session.unwrapKey(aesKeyWrap(), domainKey, backingKey.ekt(), weak));
          }
          return null;
        });
  }

  /** The HBK as the service unwraps it cannot have a usage switched on afterwards. */
  @Test
  void unwrappedBackingKey_cannotGainEncrypt() throws Exception {
    hsm.withSessionForTest(
        session -> {
          long domainKey = hsm.domainKeyHandleForTest(session, 1);
          long hbk =
              session.unwrapKey(
                  aesKeyWrap(),
                  domainKey,
                  backingKey.ekt(),
                  KeyTemplates.unwrappedBackingKey(BackingKeyUse.AES_GCM));
          try {
            assertFails(() -> session.setAttributeValues(hbk, new AttributeVector().encrypt(true)));
            assertFails(
                () ->
                    session.encryptSingle(
                        new Mechanism(PKCS11Constants.CKM_AES_ECB), hbk, new byte[32]));
          } finally {
            session.destroyObject(hbk);
          }
          return null;
        });
  }

  /**
   * An attacker holding the user PIN and an EKT derives, from the HBK as the service unwraps it and
   * with a template of their choice (SENSITIVE false, EXTRACTABLE true), with every derive
   * mechanism the token offers: AES-ECB or AES-CBC (zero IV) of a ciphertext's salt would be that
   * ciphertext's key. The HBK cannot derive (its domain key's UNWRAP_TEMPLATE pins DERIVE false and
   * ALLOWED_MECHANISMS {CKM_AES_GCM}), and cannot be unwrapped with DERIVE on.
   */
  @Test
  void derivedKey_askedNonSensitive_withEveryDeriveMechanism_isRefused() throws Exception {
    hsm.withSessionForTest(
        session -> {
          long domainKey = hsm.domainKeyHandleForTest(session, 1);
          assertFails(
              () ->
                  session.unwrapKey(
                      aesKeyWrap(),
                      domainKey,
                      backingKey.ekt(),
                      KeyTemplates.unwrappedBackingKey(BackingKeyUse.DERIVE)));
          long hbk =
              session.unwrapKey(
                  aesKeyWrap(),
                  domainKey,
                  backingKey.ekt(),
                  KeyTemplates.unwrappedBackingKey(BackingKeyUse.AES_GCM));
          try {
            List<Mechanism> derivations = deriveMechanisms(session);
            assertThat(derivations).isNotEmpty();
            for (Mechanism derivation : derivations) {
              assertFails(
                  () ->
                      session.deriveKey(
                          derivation,
                          hbk,
                          AttributeVector.newAESSecretKey()
                              .valueLen(32)
                              .token(false)
                              .sensitive(false)
                              .extractable(true)));
            }
          } finally {
            session.destroyObject(hbk);
          }
          return null;
        });
  }

  /**
   * Every mechanism with CKF_DERIVE the token lists that takes a key and a byte string, with the
   * parameters a salt would give it.
   */
  private static List<Mechanism> deriveMechanisms(Session session) throws PKCS11Exception {
    List<Mechanism> found = new ArrayList<>();
    org.xipki.pkcs11.wrapper.Token token = session.getToken();
    for (long m : token.getMechanismList()) {
      if ((token.getMechanismInfo(m).getFlags() & PKCS11Constants.CKF_DERIVE) == 0) {
        continue;
      }
      if (m == PKCS11Constants.CKM_AES_ECB_ENCRYPT_DATA
          || m == PKCS11Constants.CKM_DES_ECB_ENCRYPT_DATA
          || m == PKCS11Constants.CKM_DES3_ECB_ENCRYPT_DATA) {
        found.add(new Mechanism(m, new KEY_DERIVATION_STRING_DATA(new byte[32])));
      } else if (m == PKCS11Constants.CKM_AES_CBC_ENCRYPT_DATA) {
        found.add(new Mechanism(m, new AES_CBC_ENCRYPT_DATA_PARAMS(new byte[16], new byte[32])));
      }
    }
    return found;
  }

  /** The service's template without the ALLOWED_MECHANISMS pin. */
  private static AttributeVector attackerTemplate() {
    return AttributeVector.newAESSecretKey()
        .token(false)
        .sensitive(true)
        .wrapWithTrusted(true)
        .encrypt(true)
        .decrypt(true)
        .derive(false);
  }

  @Test
  void domainKey_cannotDecryptAnEkt_withAnyAesMode() throws Exception {
    hsm.withSessionForTest(
        session -> {
          long domainKey = hsm.domainKeyHandleForTest(session, 1);
          byte[] ekt = backingKey.ekt();
          for (Mechanism m :
              new Mechanism[] {
                new Mechanism(PKCS11Constants.CKM_AES_ECB),
                new Mechanism(
                    PKCS11Constants.CKM_AES_CBC,
                    new org.xipki.pkcs11.wrapper.params.ByteArrayParams(new byte[16])),
                new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP_PAD),
              }) {
            assertFails(() -> session.decryptSingle(m, domainKey, ekt));
          }
          return null;
        });
  }

  /** A copy that relaxes SENSITIVE or EXTRACTABLE is refused, or keeps the key locked. */
  private static void assertCopyFailsOrStaysLocked(Session session, long key)
      throws PKCS11Exception {
    for (AttributeVector relaxed :
        new AttributeVector[] {
          new AttributeVector().token(false).sensitive(false),
          new AttributeVector().token(false).extractable(true),
        }) {
      long copy;
      try {
        copy = session.copyObject(key, relaxed);
      } catch (PKCS11Exception refused) {
        continue;
      }
      try {
        AttributeVector a =
            session.getAttrValues(
                copy, PKCS11Constants.CKA_SENSITIVE, PKCS11Constants.CKA_EXTRACTABLE);
        assertThat(a.sensitive()).as("a copy stays sensitive").isTrue();
        assertThat(a.extractable()).as("a copy stays non-extractable").isFalse();
        assertValueUnreadable(session, copy);
      } finally {
        session.destroyObject(copy);
      }
    }
  }

  private static long auditKey(Session session) throws PKCS11Exception {
    long[] found = session.findObjectsSingle(PrivateKeyTemplates.signingKeyByLabel(AUDIT_KEY), 2);
    assertThat(found).hasSize(1);
    return found[0];
  }

  private static Mechanism aesKeyWrap() {
    return new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP);
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
    void run() throws PKCS11Exception;
  }

  private static void assertFails(Call call) {
    try {
      call.run();
    } catch (PKCS11Exception expected) {
      return;
    }
    throw new AssertionError("the token allowed it");
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
