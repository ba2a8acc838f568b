package io.p11kms.hsm.keys;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.HmacType;
import io.p11kms.hsm.KeyPairType;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.PrivateKeyUsage;
import io.p11kms.hsm.TestCeremonies;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.hsm.domain.DomainKeyRole;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.params.KEY_DERIVATION_STRING_DATA;

/**
 * Moving a key from one kind of domain key to another, as a user-PIN holder with its EKT would: on
 * a token of the project's ceremony every move is refused (each domain key's WRAP_TEMPLATE and
 * UNWRAP_TEMPLATE pin class, type and usage); on a token of the ceremony before, the same moves
 * work, which is what shows the test can fail.
 */
class RoleTemplatesTest {
  private static final Mechanism KW = new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP);
  private static final Mechanism KWP = new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP_PAD);

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

  private void open(TestCeremonies.Kind kind) {
    token = SoftHsmTestToken.createWithoutDomainKey();
    char[] soPin = token.soPin();
    try {
      TestCeremonies.run(kind, token.modulePath(), token.label(), soPin, 1);
    } finally {
      Arrays.fill(soPin, '\0');
    }
    hsm = Pkcs11Hsm.open(token.hsmConfig());
  }

  /**
   * A backing key unwrapped EXTRACTABLE (the re-wrap template), wrapped under the private key
   * domain key and unwrapped back as an AES key with ENCRYPT on: AES-ECB of a salt under it is the
   * per-request key of a derived ciphertext.
   */
  @ParameterizedTest
  @EnumSource(
      value = TestCeremonies.Kind.class,
      names = {"PROJECT", "PREVIOUS"})
  void backingKey_rewrappedUnderThePrivateKeyDomainKey_asAnEncryptKey(TestCeremonies.Kind kind)
      throws Exception {
    open(kind);
    WrappedKey hbk = hsm.generateBackingKey();
    BackingKeyUse use =
        kind == TestCeremonies.Kind.PROJECT ? BackingKeyUse.AES_GCM : BackingKeyUse.DERIVE;
    boolean leaked =
        hsm.withSessionForTest(
            session -> {
              long domainKey = hsm.domainKeyHandleForTest(session, 1);
              long asym = hsm.asymDomainKeyHandleForTest(session, 1);
              long key =
                  session.unwrapKey(
                      KW, domainKey, hbk.ekt(), KeyTemplates.rewrappableBackingKey(use));
              try {
                byte[] moved;
                try {
                  moved = session.wrapKey(KWP, asym, key);
                } catch (PKCS11Exception refused) {
                  return false;
                }
                long asAes =
                    session.unwrapKey(
                        KWP,
                        asym,
                        moved,
                        AttributeVector.newAESSecretKey()
                            .token(false)
                            .sensitive(true)
                            .wrapWithTrusted(true)
                            .encrypt(true)
                            .unwrap(false)
                            .derive(false)
                            .modifiable(false));
                try {
                  byte[] salt = new byte[32];
                  byte[] ecb =
                      session.encryptSingle(
                          new Mechanism(PKCS11Constants.CKM_AES_ECB), asAes, salt);
                  return ecb.length == 32;
                } finally {
                  session.destroyObject(asAes);
                }
              } finally {
                session.destroyObject(key);
              }
            });
    assertThat(leaked).isEqualTo(kind != TestCeremonies.Kind.PROJECT);
  }

  /**
   * An HMAC key's EKT unwrapped as an AES key with ENCRYPT on (on the project's token under its own
   * domain key, which pins the generic secret type and SIGN/VERIFY only).
   */
  @ParameterizedTest
  @EnumSource(
      value = TestCeremonies.Kind.class,
      names = {"PROJECT", "PREVIOUS"})
  void hmacKey_unwrappedAsAnAesKey(TestCeremonies.Kind kind) throws Exception {
    open(kind);
    if (kind == TestCeremonies.Kind.PREVIOUS) {
      // The ceremony before wrapped HMAC keys under domain-key-asym/<n>: add nothing else.
      boolean asAes = hsm.withSessionForTest(this::hmacUnderAsym);
      assertThat(asAes).isTrue();
      return;
    }
    WrappedKey hmac = hsm.generateHmacKey(HmacType.HMAC_SHA256);
    assertThat(hmac.role()).isEqualTo(DomainKeyRole.HMAC);
    boolean asAes =
        hsm.withSessionForTest(
            session -> {
              long domainKey = hsm.domainKeyHandleForTest(session, DomainKeyRole.HMAC, 1);
              return unwrapsAsAes(session, domainKey, hmac.ekt());
            });
    assertThat(asAes).isFalse();
  }

  /** The ceremony before: an HMAC key wrapped under the asymmetric domain key unwraps as AES. */
  private boolean hmacUnderAsym(Session session) throws PKCS11Exception {
    long asym = hsm.asymDomainKeyHandleForTest(session, 1);
    long hmac =
        session.generateKey(
            new Mechanism(PKCS11Constants.CKM_GENERIC_SECRET_KEY_GEN),
            PrivateKeyTemplates.newHmacKey(HmacType.HMAC_SHA256));
    try {
      return unwrapsAsAes(session, asym, session.wrapKey(KWP, asym, hmac));
    } finally {
      session.destroyObject(hmac);
    }
  }

  private static boolean unwrapsAsAes(Session session, long domainKey, byte[] ekt)
      throws PKCS11Exception {
    long key;
    try {
      key =
          session.unwrapKey(
              KWP,
              domainKey,
              ekt,
              AttributeVector.newAESSecretKey()
                  .token(false)
                  .sensitive(true)
                  .wrapWithTrusted(true)
                  .encrypt(true)
                  .unwrap(false)
                  .derive(false)
                  .modifiable(false));
    } catch (PKCS11Exception refused) {
      return false;
    }
    session.destroyObject(key);
    return true;
  }

  /**
   * A private key or an HMAC key unwrapped EXTRACTABLE cannot be wrapped under another role's
   * domain key, and a backing key cannot be wrapped under the HMAC one.
   */
  @ParameterizedTest
  @EnumSource(
      value = TestCeremonies.Kind.class,
      names = {"PROJECT"})
  void everyKind_staysUnderItsOwnDomainKey(TestCeremonies.Kind kind) throws Exception {
    open(kind);
    WrappedKey hbk = hsm.generateBackingKey();
    WrappedKey hmac = hsm.generateHmacKey(HmacType.HMAC_SHA256);
    WrappedKey ec = hsm.generateKeyPair(KeyPairType.EC_P256, PrivateKeyUsage.SIGN).privateKey();
    hsm.withSessionForTest(
        session -> {
          long symmetric = hsm.domainKeyHandleForTest(session, DomainKeyRole.SYMMETRIC, 1);
          long asym = hsm.domainKeyHandleForTest(session, DomainKeyRole.ASYMMETRIC, 1);
          long hmacKey = hsm.domainKeyHandleForTest(session, DomainKeyRole.HMAC, 1);
          long[] keys = {
            session.unwrapKey(
                KW,
                symmetric,
                hbk.ekt(),
                KeyTemplates.rewrappableBackingKey(BackingKeyUse.AES_GCM)),
            session.unwrapKey(KWP, hmacKey, hmac.ekt(), PrivateKeyTemplates.hmacKey(true)),
            session.unwrapKey(
                KWP,
                asym,
                ec.ekt(),
                PrivateKeyTemplates.privateKey(KeyPairType.EC_P256, PrivateKeyUsage.SIGN, true)),
          };
          long[][] others = {{asym, hmacKey}, {symmetric, asym}, {symmetric, hmacKey}};
          try {
            for (int i = 0; i < keys.length; i++) {
              for (long other : others[i]) {
                for (Mechanism m : new Mechanism[] {KW, KWP}) {
                  long key = keys[i];
                  assertThat(codeOf(() -> session.wrapKey(m, other, key)))
                      .as("key %d under another role's domain key", i)
                      .isNotZero();
                }
              }
            }
            // And a backing key cannot derive, whatever is asked of the derived key.
            long hbkKey = keys[0];
            assertThat(
                    codeOf(
                        () ->
                            session.deriveKey(
                                new Mechanism(
                                    PKCS11Constants.CKM_AES_ECB_ENCRYPT_DATA,
                                    new KEY_DERIVATION_STRING_DATA(new byte[32])),
                                hbkKey,
                                AttributeVector.newAESSecretKey()
                                    .valueLen(32)
                                    .token(false)
                                    .sensitive(false)
                                    .extractable(true))))
                .isNotZero();
          } finally {
            for (long key : keys) {
              session.destroyObject(key);
            }
          }
          return null;
        });
  }

  private interface Call {
    void run() throws PKCS11Exception;
  }

  private static long codeOf(Call call) {
    try {
      call.run();
      return 0;
    } catch (PKCS11Exception e) {
      return e.getErrorCode();
    }
  }
}
