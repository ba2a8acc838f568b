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

  /** The label prefix of asymmetric domain keys: {@code domain-key-asym/<generation>}. */
  static final String ASYM_DOMAIN_KEY_PREFIX = "domain-key-asym/";

  private KeyTemplates() {}

  static String domainKeyLabel(int generation) {
    return DOMAIN_KEY_PREFIX + generation;
  }

  static String asymDomainKeyLabel(int generation) {
    return ASYM_DOMAIN_KEY_PREFIX + generation;
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

  /**
   * The asymmetric domain key, which wraps private and HMAC keys: the domain key's attributes, its
   * own label, and its own UNWRAP_TEMPLATE. Why a second key: the domain key's UNWRAP_TEMPLATE pins
   * whatever it unwraps to DERIVE-only, right for HBKs and useless for a key that signs.
   */
  static AttributeVector asymDomainKey(int generation) {
    return domainKey(generation)
        .label(asymDomainKeyLabel(generation))
        .unwrapTemplate(asymDomainKeyUnwrapTemplate())
        .wrapTemplate(asymDomainKeyWrapTemplate());
  }

  /**
   * What the asymmetric domain key may wrap: keys that cannot unwrap (private and HMAC keys), never
   * a domain key. Why: its UNWRAP_TEMPLATE leaves ENCRYPT and DECRYPT to the caller, so a domain
   * key wrapped under it (possible once domain keys are extractable for a domain join) could be
   * unwrapped as an AES key that decrypts every EKT.
   */
  static AttributeVector asymDomainKeyWrapTemplate() {
    return new AttributeVector().unwrap(false);
  }

  /**
   * What an unwrap under the asymmetric domain key must produce: SENSITIVE, wrappable only by a
   * trusted key, not MODIFIABLE, and never an unwrapping or deriving key. SIGN, VERIFY and DECRYPT
   * are left to the caller's template (they depend on the key's usage).
   *
   * <p>ENCRYPT and WRAP false are not pinned here: SoftHSM2 2.6.1 requires every UNWRAP_TEMPLATE
   * attribute in the caller's template, and refuses CKA_ENCRYPT and CKA_WRAP in a private key's
   * template ({@code CKR_ATTRIBUTE_TYPE_INVALID}), so pinning them would make every private key
   * impossible to unwrap. A private key has neither attribute; an HMAC key (generic secret) with
   * them has no mechanism to use them with, and its own templates set them false.
   */
  static AttributeVector asymDomainKeyUnwrapTemplate() {
    return new AttributeVector()
        .sensitive(true)
        .wrapWithTrusted(true)
        .modifiable(false)
        .unwrap(false)
        .derive(false);
  }

  static AttributeVector trustedAsymDomainKeyByLabel(int generation) {
    return asymDomainKeyByLabel(generation).trusted(true);
  }

  static AttributeVector asymDomainKeyByLabel(int generation) {
    return new AttributeVector()
        .class_(PKCS11Constants.CKO_SECRET_KEY)
        .token(true)
        .label(asymDomainKeyLabel(generation));
  }

  /**
   * A private key to be kept: a session object, SENSITIVE, EXTRACTABLE only so that it can be
   * wrapped, and then only by a trusted key; exactly one usage. Carries every attribute of the
   * asymmetric domain key's UNWRAP_TEMPLATE with the same value, so the same template unwraps it.
   */
  static AttributeVector privateKey(KeyPairType type, PrivateKeyUsage usage, boolean extractable) {
    AttributeVector template =
        type.isRsa() ? AttributeVector.newRSAPrivateKey() : AttributeVector.newECPrivateKey();
    return template
        .token(false)
        .private_(true)
        .sensitive(true)
        .extractable(extractable)
        .wrapWithTrusted(true)
        .sign(usage == PrivateKeyUsage.SIGN)
        .decrypt(usage == PrivateKeyUsage.DECRYPT)
        .signRecover(false)
        .unwrap(false)
        .derive(false)
        .modifiable(false);
  }

  /**
   * The public half of a generated pair: a session object only read (its modulus or point), so no
   * usage at all.
   */
  static AttributeVector publicKey(KeyPairType type) {
    AttributeVector template;
    if (type.isRsa()) {
      template =
          AttributeVector.newRSAPublicKey()
              .modulusBits(type.bits())
              .publicExponent(java.math.BigInteger.valueOf(65537));
    } else {
      template = AttributeVector.newECPublicKey().ecParams(Der.curveOid(type));
    }
    return template
        .token(false)
        .private_(false)
        .verify(false)
        .verifyRecover(false)
        .encrypt(false)
        .wrap(false)
        .derive(false)
        .modifiable(false);
  }

  /**
   * The private half of a customer data key pair: its components are read out at once, so it is not
   * SENSITIVE and EXTRACTABLE (both are needed to read CKA_PRIVATE_EXPONENT or CKA_VALUE), and has
   * no usage.
   */
  static AttributeVector dataPrivateKey(KeyPairType type) {
    AttributeVector template =
        type.isRsa() ? AttributeVector.newRSAPrivateKey() : AttributeVector.newECPrivateKey();
    return template
        .token(false)
        .private_(true)
        .sensitive(false)
        .extractable(true)
        .wrapWithTrusted(false)
        .sign(false)
        .decrypt(false)
        .signRecover(false)
        .unwrap(false)
        .derive(false)
        .modifiable(false);
  }

  /**
   * An HMAC key: a generic secret session object, SIGN and VERIFY its only usages, SENSITIVE,
   * EXTRACTABLE only so that it can be wrapped (and only by a trusted key).
   */
  static AttributeVector hmacKey(boolean extractable) {
    return AttributeVector.newSecretKey(PKCS11Constants.CKK_GENERIC_SECRET)
        .token(false)
        .private_(true)
        .sensitive(true)
        .extractable(extractable)
        .wrapWithTrusted(true)
        .sign(true)
        .verify(true)
        .encrypt(false)
        .decrypt(false)
        .wrap(false)
        .unwrap(false)
        .derive(false)
        .modifiable(false);
  }

  /** A new HMAC key of {@code type}'s length. */
  static AttributeVector newHmacKey(HmacType type) {
    return hmacKey(true).valueLen(type.length());
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

  /**
   * The signing key {@code label} as {@link #signingKey} made it: generated in the token (LOCAL)
   * and never readable (ALWAYS_SENSITIVE, NEVER_EXTRACTABLE), PRIVATE, able to sign. An object with
   * the same label that is not all of these (imported with a value its maker knows, or once
   * extractable) does not match.
   */
  static AttributeVector signingKeyByLabel(String label) {
    return AttributeVector.newSecretKey(PKCS11Constants.CKK_GENERIC_SECRET)
        .label(label)
        .token(true)
        .private_(true)
        .sign(true)
        .alwaysSensitive(true)
        .neverExtractable(true)
        .local(true);
  }

  /**
   * The transport private key: UNWRAP only, and whatever it unwraps must be TRUSTED (so only an SO
   * session can unwrap with it) and SENSITIVE with WRAP_WITH_TRUSTED (never readable, never wrapped
   * under an untrusted key), with no ENCRYPT/DECRYPT/SIGN/VERIFY. DESTROYABLE, to go when the join
   * ends.
   */
  static AttributeVector transportPrivateKey(String label) {
    return AttributeVector.newRSAPrivateKey()
        .token(true)
        .private_(false)
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
        .unwrapTemplate(
            new AttributeVector()
                .trusted(true)
                .sensitive(true)
                .wrapWithTrusted(true)
                .encrypt(false)
                .decrypt(false)
                .sign(false)
                .verify(false)
                .modifiable(false))
        .modifiable(false);
  }

  /** The public half, a session object: only read for its modulus, then destroyed. */
  static AttributeVector transportPublicKey(String label, int bits) {
    return AttributeVector.newRSAPublicKey()
        .token(false)
        .private_(false)
        .label(label)
        .modulusBits(bits)
        .publicExponent(java.math.BigInteger.valueOf(65537))
        .encrypt(false)
        .verify(false)
        .verifyRecover(false)
        .wrap(false)
        .derive(false);
  }

  /** The target's transport key on the source: a TRUSTED session object that can only wrap. */
  static AttributeVector importedTransportKey(String label, TransportKey key) {
    return AttributeVector.newRSAPublicKey()
        .token(false)
        .private_(false)
        .label(label)
        .modulus(new java.math.BigInteger(1, key.modulus()))
        .publicExponent(new java.math.BigInteger(1, key.publicExponent()))
        .trusted(true)
        .wrap(true)
        .encrypt(false)
        .verify(false)
        .verifyRecover(false)
        .derive(false)
        .modifiable(false);
  }
}
