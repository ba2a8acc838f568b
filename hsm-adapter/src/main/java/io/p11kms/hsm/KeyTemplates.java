package io.p11kms.hsm;

import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.PKCS11Constants;

/**
 * The attribute templates of every key the adapter makes, in one place.
 *
 * <p>Why every usage attribute is set, true or false: tokens fill in the ones left out, and
 * SoftHSM2 fills ENCRYPT, DECRYPT and SIGN with true. A domain key that can both unwrap and decrypt
 * would let anyone with a session decrypt an EKT into plaintext key bytes.
 */
final class KeyTemplates {
  /** AES-256. */
  static final int AES_256_BYTES = 32;

  /** The label prefix of domain keys: {@code domain-key/<generation>}. */
  static final String DOMAIN_KEY_PREFIX = "domain-key/";

  private KeyTemplates() {}

  static String domainKeyLabel(int generation) {
    return DOMAIN_KEY_PREFIX + generation;
  }

  /**
   * A new HSM backing key: a session object that exists only long enough to be wrapped. EXTRACTABLE
   * so that it can be wrapped at all; WRAP_WITH_TRUSTED so that only a TRUSTED key (the domain key)
   * can wrap it; DERIVE its only usage.
   */
  static AttributeVector newBackingKey() {
    return backingKeyPins(
        AttributeVector.newAESSecretKey()
            .valueLen(AES_256_BYTES)
            .token(false)
            .private_(true)
            .extractable(true));
  }

  /**
   * An HBK unwrapped for one request: as {@link #newBackingKey()} but not extractable, since it is
   * only derived from. Carries every attribute of the domain key's UNWRAP_TEMPLATE with the same
   * value, or the token refuses the unwrap.
   */
  static AttributeVector unwrappedBackingKey() {
    return backingKeyPins(
        AttributeVector.newAESSecretKey().token(false).private_(true).extractable(false));
  }

  /** An HBK unwrapped to be wrapped again under another domain key generation: EXTRACTABLE. */
  static AttributeVector rewrappableBackingKey() {
    return backingKeyPins(
        AttributeVector.newAESSecretKey().token(false).private_(true).extractable(true));
  }

  /**
   * What every HBK is, however it came to be, and what the domain key's UNWRAP_TEMPLATE forces:
   * SENSITIVE, wrappable only by a trusted key, DERIVE its only usage, not MODIFIABLE.
   */
  private static AttributeVector backingKeyPins(AttributeVector template) {
    return template
        .sensitive(true)
        .wrapWithTrusted(true)
        .derive(true)
        .encrypt(false)
        .decrypt(false)
        .wrap(false)
        .unwrap(false)
        .sign(false)
        .verify(false)
        .modifiable(false);
  }

  /** A one-use derived AES-256 key that can do exactly one of encrypt or decrypt. */
  static AttributeVector derivedKey(boolean forEncrypt) {
    return AttributeVector.newAESSecretKey()
        .valueLen(AES_256_BYTES)
        .token(false)
        .private_(true)
        .sensitive(true)
        .extractable(false)
        .encrypt(forEncrypt)
        .decrypt(!forEncrypt)
        .wrap(false)
        .unwrap(false)
        .sign(false)
        .verify(false)
        .derive(false);
  }

  /**
   * What an unwrap under the domain key must produce, enforced by the token whatever template the
   * caller passes: an HBK, still SENSITIVE, wrappable only by a trusted key, DERIVE its only usage,
   * and not MODIFIABLE. Without the usage pins, anyone holding the user PIN and an EKT could unwrap
   * the HBK with ENCRYPT on and compute, with AES-ECB over a salt, the very keys the service
   * derives; without MODIFIABLE false, switch ENCRYPT on afterwards.
   */
  static AttributeVector domainKeyUnwrapTemplate() {
    return backingKeyPins(new AttributeVector());
  }

  /**
   * The domain key: a public token object (an SO session can create only public objects), TRUSTED
   * so that it may wrap WRAP_WITH_TRUSTED keys, WRAP and UNWRAP only.
   *
   * <p>EXTRACTABLE with WRAP_WITH_TRUSTED: it can leave the token only wrapped under another
   * TRUSTED key, which only the SO can make; that is how the domain-join ceremony copies it to
   * another HSM ({@link DomainJoin}). SENSITIVE, so its value is never readable. Its WRAP_TEMPLATE
   * lets it wrap only DERIVE keys (HBKs): without it a user session could wrap a domain key under
   * itself and unwrap the bytes into a DERIVE session key with the domain key's material, an AES
   * encryption oracle under the domain key (SoftHSM2 2.6.1 allows both calls).
   *
   * <p>Not MODIFIABLE, not COPYABLE, not DESTROYABLE: a public object is open to every user
   * session, and SoftHSM2 lets a user session set CKA_DECRYPT on a modifiable public key. A domain
   * key that can AES-ECB decrypt gives up every EKT (RFC 3394 unwrapping is AES-ECB decryption and
   * XOR). A copy with a new template would do the same; a destroyed domain key loses every EKT
   * wrapped under it. MODIFIABLE comes last: SoftHSM2 applies a template in order and refuses every
   * attribute after MODIFIABLE false (CKR_ATTRIBUTE_READ_ONLY) when it unwraps.
   */
  static AttributeVector domainKey(int generation) {
    return AttributeVector.newAESSecretKey()
        .valueLen(AES_256_BYTES)
        .label(domainKeyLabel(generation))
        .token(true)
        .private_(false)
        .trusted(true)
        .sensitive(true)
        .extractable(true)
        .wrapWithTrusted(true)
        .wrap(true)
        .unwrap(true)
        .encrypt(false)
        .decrypt(false)
        .sign(false)
        .verify(false)
        .derive(false)
        .copyable(false)
        .destroyable(false)
        .wrapTemplate(domainKeyWrapTemplate())
        .unwrapTemplate(domainKeyUnwrapTemplate())
        .modifiable(false);
  }

  /** What a domain key may wrap: DERIVE keys only, which no domain key is. */
  static AttributeVector domainKeyWrapTemplate() {
    return new AttributeVector().derive(true);
  }

  /** Finds secret keys that are token objects (domain keys are among them). */
  static AttributeVector tokenSecretKeys() {
    return new AttributeVector().class_(PKCS11Constants.CKO_SECRET_KEY).token(true);
  }

  /**
   * Domain keys the service will use: TRUSTED ones only. Only the security officer can set TRUSTED,
   * so a key a user session planted under a {@code domain-key/<n>} label is never picked up (it
   * would break key creation, or make a label ambiguous).
   */
  static AttributeVector trustedTokenSecretKeys() {
    return tokenSecretKeys().trusted(true);
  }

  static AttributeVector trustedDomainKeyByLabel(int generation) {
    return domainKeyByLabel(generation).trusted(true);
  }

  static AttributeVector domainKeyByLabel(int generation) {
    return new AttributeVector()
        .class_(PKCS11Constants.CKO_SECRET_KEY)
        .token(true)
        .label(domainKeyLabel(generation));
  }

  /**
   * A signing (HMAC-SHA256) key: a private token object, sensitive and never extractable, that can
   * only sign and verify.
   */
  static AttributeVector signingKey(String label) {
    return AttributeVector.newSecretKey(PKCS11Constants.CKK_GENERIC_SECRET)
        .valueLen(AES_256_BYTES)
        .label(label)
        .token(true)
        .private_(true)
        .sensitive(true)
        .extractable(false)
        .modifiable(false)
        .encrypt(false)
        .decrypt(false)
        .wrap(false)
        .unwrap(false)
        .derive(false)
        .sign(true)
        .verify(true);
  }

  static AttributeVector signingKeyByLabel(String label) {
    return AttributeVector.newSecretKey(PKCS11Constants.CKK_GENERIC_SECRET).label(label);
  }
}
