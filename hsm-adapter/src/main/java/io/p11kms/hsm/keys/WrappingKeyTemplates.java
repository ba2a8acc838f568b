package io.p11kms.hsm.keys;

import io.p11kms.hsm.ImportWrappingAlgorithm;
import io.p11kms.hsm.domain.DomainKeyRole;
import io.p11kms.hsm.domain.TransportKey;
import java.math.BigInteger;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.PKCS11Constants;

/**
 * The templates of the RSA keys that carry key material between tokens, each usage attribute set
 * explicitly ({@link KeyTemplates} says why): the domain join's transport key, imported key
 * material's wrapping key and ephemeral AES key, and the regions' transport and peer keys.
 */
public final class WrappingKeyTemplates {
  private WrappingKeyTemplates() {}

  /**
   * The transport private key: UNWRAP only, and whatever it unwraps must be TRUSTED (so only an SO
   * session can unwrap with it) and SENSITIVE with WRAP_WITH_TRUSTED (never readable, never wrapped
   * under an untrusted key), with no ENCRYPT/DECRYPT/SIGN/VERIFY. DESTROYABLE, to go when the join
   * ends.
   */
  public static AttributeVector transportPrivateKey(String label) {
    return unwrapOnlyPrivateKey(
        label,
        false,
        new AttributeVector()
            .trusted(true)
            .sensitive(true)
            .wrapWithTrusted(true)
            .encrypt(false)
            .decrypt(false)
            .sign(false)
            .verify(false)
            .modifiable(false));
  }

  /** The public half, a session object: only read for its modulus, then destroyed. */
  public static AttributeVector transportPublicKey(String label, int bits) {
    return readOnlyPublicKey(bits).label(label);
  }

  /**
   * The private half of an import wrapping key: a private token object (so that a restart does not
   * lose it during its 24 hours), SENSITIVE, never extractable, UNWRAP and nothing else,
   * DESTROYABLE (it goes when used or expired). Its UNWRAP_TEMPLATE makes whatever it unwraps what
   * {@code algorithm} needs: for RSAES-OAEP the key material as a backing key (exactly what the
   * domain key's UNWRAP_TEMPLATE forces: sensitive, wrappable only by a trusted key, AES-GCM only);
   * for RSA-AES key wrap the ephemeral AES key, which can only unwrap with AES key wrap with
   * padding. So nobody with the user PIN can unwrap the customer's material with it into a readable
   * key.
   */
  static AttributeVector importWrappingPrivateKey(String label, ImportWrappingAlgorithm algorithm) {
    return unwrapOnlyPrivateKey(
        label,
        true,
        algorithm.ephemeralAesKey()
            ? ephemeralImportKeyPins(new AttributeVector())
            : KeyTemplates.unwrapTemplate(DomainKeyRole.SYMMETRIC));
  }

  /**
   * An RSA private key kept as a token object, SENSITIVE, never extractable, that can only unwrap,
   * and only into what {@code unwrapTemplate} allows; DESTROYABLE, never copied or changed.
   */
  private static AttributeVector unwrapOnlyPrivateKey(
      String label, boolean privateObject, AttributeVector unwrapTemplate) {
    return AttributeVector.newRSAPrivateKey()
        .token(true)
        .private_(privateObject)
        .label(label)
        .sensitive(true)
        .extractable(false)
        .unwrap(true)
        .decrypt(false)
        .sign(false)
        .signRecover(false)
        .derive(false)
        .copyable(false)
        .destroyable(true)
        .unwrapTemplate(unwrapTemplate)
        .modifiable(false);
  }

  /** The public half: a session object, only read for its modulus, then destroyed. */
  public static AttributeVector importWrappingPublicKey(int bits) {
    return readOnlyPublicKey(bits);
  }

  /**
   * The public half of a generated RSA pair as a session object with no usage: it is only read for
   * its modulus, then destroyed.
   */
  private static AttributeVector readOnlyPublicKey(int bits) {
    return AttributeVector.newRSAPublicKey()
        .token(false)
        .private_(false)
        .modulusBits(bits)
        .publicExponent(BigInteger.valueOf(65537))
        .encrypt(false)
        .verify(false)
        .verifyRecover(false)
        .wrap(false)
        .derive(false);
  }

  /**
   * The ephemeral AES key of RSA-AES key wrap, unwrapped as a session object for one import: it can
   * only unwrap with AES key wrap with padding, and (where the token keeps it) only into a backing
   * key.
   */
  static AttributeVector ephemeralImportKey() {
    return ephemeralImportKeyPins(
        new AttributeVector()
            .token(false)
            .private_(true)
            .unwrapTemplate(KeyTemplates.unwrapTemplate(DomainKeyRole.SYMMETRIC)));
  }

  private static AttributeVector ephemeralImportKeyPins(AttributeVector template) {
    return template
        .class_(PKCS11Constants.CKO_SECRET_KEY)
        .keyType(PKCS11Constants.CKK_AES)
        .sensitive(true)
        .extractable(false)
        .unwrap(true)
        .wrap(false)
        .encrypt(false)
        .decrypt(false)
        .sign(false)
        .verify(false)
        .derive(false)
        .allowedMechanisms(new long[] {PKCS11Constants.CKM_AES_KEY_WRAP_PAD})
        .modifiable(false);
  }

  /** Finds the import wrapping private key labelled {@code label}. */
  public static AttributeVector importWrappingKeyByLabel(String label) {
    return new AttributeVector().class_(PKCS11Constants.CKO_PRIVATE_KEY).token(true).label(label);
  }

  /** Finds every private key that is a token object (import wrapping keys are among them). */
  static AttributeVector tokenPrivateKeys() {
    return new AttributeVector().class_(PKCS11Constants.CKO_PRIVATE_KEY).token(true);
  }

  /** The target's transport key on the source: a TRUSTED session object that can only wrap. */
  public static AttributeVector importedTransportKey(String label, TransportKey key) {
    return trustedWrappingPublicKey(label, key, false);
  }

  /**
   * A peer region's transport key on the source region's token: a TRUSTED public token object (only
   * the SO can make one) that can only wrap, and only a backing key (its WRAP_TEMPLATE is the
   * symmetric domain key's, which no domain key fits), so that the service can send a backing key
   * to that region at run time and nothing else.
   */
  public static AttributeVector regionPeerKey(String label, TransportKey key) {
    return trustedWrappingPublicKey(label, key, true)
        .wrapTemplate(KeyTemplates.wrapTemplate(DomainKeyRole.SYMMETRIC));
  }

  /** Finds the public key labelled {@code label} that is a TRUSTED token object. */
  public static AttributeVector trustedPublicKeyByLabel(String label) {
    return new AttributeVector()
        .class_(PKCS11Constants.CKO_PUBLIC_KEY)
        .token(true)
        .trusted(true)
        .label(label);
  }

  /** Every public key that is a TRUSTED token object. */
  public static AttributeVector trustedTokenPublicKeys() {
    return new AttributeVector().class_(PKCS11Constants.CKO_PUBLIC_KEY).token(true).trusted(true);
  }

  /**
   * A region's transport private key: a private token object, SENSITIVE, never extractable, that
   * can only unwrap, and only into a backing key (the symmetric domain key's UNWRAP_TEMPLATE),
   * which the service wraps at once under the region's domain key.
   */
  public static AttributeVector regionTransportPrivateKey(String label) {
    return importWrappingPrivateKey(label, ImportWrappingAlgorithm.RSAES_OAEP_SHA_256);
  }

  private static AttributeVector trustedWrappingPublicKey(
      String label, TransportKey key, boolean tokenObject) {
    return AttributeVector.newRSAPublicKey()
        .token(tokenObject)
        .private_(false)
        .label(label)
        .modulus(new BigInteger(1, key.modulus()))
        .publicExponent(new BigInteger(1, key.publicExponent()))
        .trusted(true)
        .wrap(true)
        .encrypt(false)
        .verify(false)
        .verifyRecover(false)
        .derive(false)
        .modifiable(false);
  }
}
