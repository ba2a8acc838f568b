package io.p11kms.hsm.diagnostics;

import io.p11kms.hsm.HsmConfig;
import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.keys.KeyTemplates;
import io.p11kms.hsm.session.SecurityOfficer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.Token;

/**
 * What a token does where PKCS#11 tokens differ, found out by trying it once with throwaway session
 * keys (destroyed before the probe returns), never by the token's name.
 *
 * <p>Custody rests on two promises of the token: only its security officer can mark a key TRUSTED,
 * and a key marked WRAP_WITH_TRUSTED can be wrapped under a TRUSTED key only. A token that keeps
 * both (SoftHSM2 2.6) lets nobody with the user PIN take a backing key out. A token that keeps
 * neither (NSS softoken 3.87 stores both attributes and ignores them) lets anyone with the user PIN
 * wrap any key under a key of their own and read it: the adapter refuses such a token unless the
 * configuration allows it ({@link HsmConfig#allowUnenforcedCustody()}).
 *
 * @param gcmEncryption the call that encrypts AES-GCM correctly on this token
 * @param trustedOnlyBySecurityOfficer a user session cannot make a key TRUSTED
 * @param wrapWithTrustedEnforced a WRAP_WITH_TRUSTED key does not wrap under an untrusted key
 * @param keepsKeyTemplates the token keeps CKA_UNWRAP_TEMPLATE on a key (and so can enforce it)
 * @param marksGeneratedKeysLocal a key made by C_GenerateKey has CKA_LOCAL true
 * @param paddedKeyWrap how private and HMAC keys are wrapped here, and which EKT formats unwrap
 */
public record TokenCapabilities(
    GcmEncryption gcmEncryption,
    boolean trustedOnlyBySecurityOfficer,
    boolean wrapWithTrustedEnforced,
    boolean keepsKeyTemplates,
    boolean marksGeneratedKeysLocal,
    PaddedKeyWrap paddedKeyWrap) {

  private static final Logger LOG = LoggerFactory.getLogger(Pkcs11Hsm.class);
  private static final byte[] PROBE_PLAINTEXT = new byte[16];
  private static final byte[] PROBE_IV = new byte[12];
  private static final byte[] PROBE_AAD = {1};

  /** Whether nobody with only the user PIN can take a key's material out of this token. */
  public boolean custodyEnforced() {
    return trustedOnlyBySecurityOfficer && wrapWithTrustedEnforced;
  }

  /** What the token fails to enforce, for a message; empty when custody is enforced. */
  public List<String> custodyGaps() {
    List<String> gaps = new ArrayList<>();
    if (!trustedOnlyBySecurityOfficer) {
      gaps.add("a user session can set CKA_TRUSTED");
    }
    if (!wrapWithTrustedEnforced) {
      gaps.add("a CKA_WRAP_WITH_TRUSTED key wraps under an untrusted key");
    }
    if (!keepsKeyTemplates) {
      gaps.add("CKA_UNWRAP_TEMPLATE is not kept");
    }
    return gaps;
  }

  /**
   * Refuses a token without custody unless {@code config} allows it (for development and tests
   * only), with a warning then.
   *
   * @throws HsmException naming what the token fails to enforce
   */
  public void requireCustody(HsmConfig config) {
    if (custodyEnforced()) {
      return;
    }
    if (!config.allowUnenforcedCustody()) {
      throw new HsmException(
          "token "
              + config.tokenLabel()
              + " does not enforce key custody ("
              + String.join("; ", custodyGaps())
              + "): anyone with the user PIN can take key material out. Refused; allow it"
              + " for development and tests only");
    }
    LOG.warn(
        "token {} does not enforce key custody ({}): allowed by configuration, for development"
            + " and tests only",
        config.tokenLabel(),
        String.join("; ", custodyGaps()));
  }

  /**
   * Probes the token in a session of its own (a failed single-part encrypt may leave an operation
   * active in its session), which is closed before returning. Some session must be logged in as the
   * user: the probe keys are private session objects.
   *
   * @throws HsmException when the token encrypts AES-GCM with neither call
   */
  public static TokenCapabilities probe(Token token) throws PKCS11Exception {
    GcmEncryption gcm = null;
    boolean trusted;
    boolean wrapWithTrusted;
    boolean templates;
    boolean local = false;
    PaddedKeyWrap padded;
    String singlePart;
    String message = "not tried";
    Session session = token.openSession(false);
    try {
      long key = session.generateKey(new Mechanism(PKCS11Constants.CKM_AES_KEY_GEN), gcmKey());
      try {
        local = Boolean.TRUE.equals(session.getAttrValues(key, PKCS11Constants.CKA_LOCAL).local());
        singlePart = tryEncrypt(session, key, GcmEncryption.SINGLE_PART);
        if (singlePart == null) {
          gcm = GcmEncryption.SINGLE_PART;
        }
      } finally {
        destroyQuietly(session, key);
      }
    } finally {
      SecurityOfficer.closeQuietly(session);
    }
    session = token.openSession(false);
    try {
      if (gcm == null) {
        long key = session.generateKey(new Mechanism(PKCS11Constants.CKM_AES_KEY_GEN), gcmKey());
        try {
          message = tryEncrypt(session, key, GcmEncryption.MESSAGE);
          if (message == null) {
            gcm = GcmEncryption.MESSAGE;
          }
        } finally {
          destroyQuietly(session, key);
        }
      }
      if (gcm == null) {
        throw new HsmException(
            "the token encrypts AES-GCM with neither C_Encrypt ("
                + singlePart
                + ") nor C_EncryptMessage ("
                + message
                + ")");
      }
      trusted = !userCanSetTrusted(session);
      wrapWithTrusted = !wrapsUnderUntrustedKey(session);
      templates = keepsUnwrapTemplate(session);
      padded =
          PaddedKeyWrap.probe(
              session,
              java.util.stream.LongStream.of(token.getMechanismList())
                  .boxed()
                  .collect(java.util.stream.Collectors.toSet()));
    } finally {
      SecurityOfficer.closeQuietly(session);
    }
    return new TokenCapabilities(gcm, trusted, wrapWithTrusted, templates, local, padded);
  }

  /** Null when {@code way} encrypts and the single-part decrypt gives the plaintext back. */
  private static String tryEncrypt(Session session, long key, GcmEncryption way) {
    try {
      byte[] out = way.encrypt(session, key, PROBE_IV, PROBE_AAD, PROBE_PLAINTEXT);
      if (out == null || out.length != PROBE_PLAINTEXT.length + GcmEncryption.TAG_BYTES) {
        return "returned " + (out == null ? "nothing" : out.length + " bytes");
      }
      byte[] back = GcmEncryption.decrypt(session, key, PROBE_IV, PROBE_AAD, out);
      return Arrays.equals(back, PROBE_PLAINTEXT) ? null : "did not decrypt back";
    } catch (PKCS11Exception e) {
      return PKCS11Constants.ckrCodeToName(e.getErrorCode());
    } catch (HsmException | UnsupportedOperationException e) {
      return e.getMessage();
    }
  }

  private static boolean userCanSetTrusted(Session session) {
    try {
      long key =
          session.generateKey(
              new Mechanism(PKCS11Constants.CKM_AES_KEY_GEN), probeKey().wrap(true).trusted(true));
      destroyQuietly(session, key);
      return true;
    } catch (PKCS11Exception e) {
      return false;
    }
  }

  private static boolean wrapsUnderUntrustedKey(Session session) throws PKCS11Exception {
    Mechanism keyGen = new Mechanism(PKCS11Constants.CKM_AES_KEY_GEN);
    long guarded = session.generateKey(keyGen, probeKey().extractable(true).wrapWithTrusted(true));
    try {
      long untrusted = session.generateKey(keyGen, probeKey().wrap(true));
      try {
        session.wrapKey(new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP), untrusted, guarded);
        return true;
      } catch (PKCS11Exception e) {
        return false;
      } finally {
        destroyQuietly(session, untrusted);
      }
    } finally {
      destroyQuietly(session, guarded);
    }
  }

  private static boolean keepsUnwrapTemplate(Session session) throws PKCS11Exception {
    long key =
        session.generateKey(
            new Mechanism(PKCS11Constants.CKM_AES_KEY_GEN),
            probeKey().unwrap(true).unwrapTemplate(new AttributeVector().sensitive(true)));
    try {
      AttributeVector kept =
          session.getAttrValues(key, PKCS11Constants.CKA_UNWRAP_TEMPLATE).unwrapTemplate();
      return kept != null && Boolean.TRUE.equals(kept.sensitive());
    } finally {
      destroyQuietly(session, key);
    }
  }

  /** A private AES-256 session key, SENSITIVE, with no usage. */
  private static AttributeVector probeKey() {
    return AttributeVector.newAESSecretKey()
        .valueLen(KeyTemplates.AES_256_BYTES)
        .token(false)
        .private_(true)
        .sensitive(true)
        .extractable(false)
        .encrypt(false)
        .decrypt(false)
        .sign(false)
        .verify(false)
        .derive(false);
  }

  private static AttributeVector gcmKey() {
    return AttributeVector.newAESSecretKey()
        .valueLen(KeyTemplates.AES_256_BYTES)
        .token(false)
        .private_(true)
        .sensitive(true)
        .extractable(false)
        .encrypt(true)
        .decrypt(true)
        .wrap(false)
        .unwrap(false)
        .sign(false)
        .verify(false)
        .derive(false);
  }

  private static void destroyQuietly(Session session, long handle) {
    try {
      session.destroyObject(handle);
    } catch (PKCS11Exception e) {
      // A session object goes with its session, which the probe closes next.
    }
  }
}
