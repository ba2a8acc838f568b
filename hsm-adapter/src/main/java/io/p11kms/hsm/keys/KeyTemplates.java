package io.p11kms.hsm.keys;

import io.p11kms.hsm.domain.DomainJoin;
import io.p11kms.hsm.domain.DomainKeyRole;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.PKCS11Constants;

/**
 * The attribute templates of every key the adapter makes, in one place.
 *
 * <p>Why every usage attribute is set, true or false: tokens fill in the ones left out, and
 * SoftHSM2 fills ENCRYPT, DECRYPT and SIGN with true. A domain key that can both unwrap and decrypt
 * would let anyone with a session decrypt an EKT into plaintext key bytes.
 */
public final class KeyTemplates {
  /** AES-256. */
  public static final int AES_256_BYTES = 32;

  /** The label prefix of domain keys: {@code domain-key/<generation>}. */
  public static final String DOMAIN_KEY_PREFIX = DomainKeyRole.SYMMETRIC.labelPrefix();

  /** The label prefix of asymmetric domain keys: {@code domain-key-asym/<generation>}. */
  static final String ASYM_DOMAIN_KEY_PREFIX = DomainKeyRole.ASYMMETRIC.labelPrefix();

  private KeyTemplates() {}

  static String domainKeyLabel(int generation) {
    return DomainKeyRole.SYMMETRIC.label(generation);
  }

  static String asymDomainKeyLabel(int generation) {
    return DomainKeyRole.ASYMMETRIC.label(generation);
  }

  /**
   * A new HSM backing key: a session object that exists only long enough to be wrapped. EXTRACTABLE
   * so that it can be wrapped at all; WRAP_WITH_TRUSTED so that only a TRUSTED key (a domain key)
   * can wrap it; {@code use} its only usage.
   */
  public static AttributeVector newBackingKey(BackingKeyUse use) {
    return backingKeyPins(
        use,
        AttributeVector.newAESSecretKey()
            .valueLen(AES_256_BYTES)
            .token(false)
            .private_(true)
            .extractable(true));
  }

  /**
   * An HBK unwrapped for requests: as {@link #newBackingKey} but not extractable. Carries every
   * attribute of the domain key's UNWRAP_TEMPLATE with the same value, or the token refuses the
   * unwrap.
   *
   * <p>CKA_TOKEN is left out: false (a session object) is its default in PKCS#11 and on every
   * token, and every cache miss passes this template. PRIVATE and EXTRACTABLE stay explicit: their
   * defaults differ between tokens (NSS softoken makes a secret key public and extractable unless
   * told otherwise).
   */
  public static AttributeVector unwrappedBackingKey(BackingKeyUse use) {
    return unwrappedBackingKey(use, true);
  }

  /**
   * {@link #unwrappedBackingKey(BackingKeyUse)}, a private object or a public one ({@link
   * #publicSessionKeysAllowed}). Public or not, the HBK stays SENSITIVE, not EXTRACTABLE and a
   * session object: its value cannot be read or wrapped out, and no other process sees it. The
   * domain key's UNWRAP_TEMPLATE does not pin CKA_PRIVATE, so every generation unwraps both.
   */
  public static AttributeVector unwrappedBackingKey(BackingKeyUse use, boolean privateObject) {
    return backingKeyPins(
        use, AttributeVector.newAESSecretKey().private_(privateObject).extractable(false));
  }

  /**
   * Whether the HBKs unwrapped for requests may be public session objects on the token of the
   * library whose {@code C_GetInfo} manufacturer is {@code manufacturerId}: on SoftHSM2 only.
   *
   * <p>Why: SoftHSM2 encrypts every byte-string attribute of a private object in memory under the
   * token's key, on the object's creation and on each read of its value (every C_EncryptInit and
   * C_DecryptInit), under one lock of the token. A public session object is as unreadable
   * (SENSITIVE, not EXTRACTABLE), lives only in this process, and dies with its session. On other
   * tokens the semantics of a public session key are not known here, so it stays private.
   */
  public static boolean publicSessionKeysAllowed(String manufacturerId) {
    return manufacturerId != null && manufacturerId.strip().startsWith("SoftHSM");
  }

  /** An HBK unwrapped to be wrapped again under another domain key generation: EXTRACTABLE. */
  public static AttributeVector rewrappableBackingKey(BackingKeyUse use) {
    return backingKeyPins(
        use, AttributeVector.newAESSecretKey().token(false).private_(true).extractable(true));
  }

  /**
   * What every HBK is, however it came to be, and what its domain key's UNWRAP_TEMPLATE forces:
   * SENSITIVE, wrappable only by a trusted key, not MODIFIABLE, and one use.
   *
   * <p>{@link BackingKeyUse#AES_GCM}: ENCRYPT and DECRYPT with CKM_AES_GCM only (the token refuses
   * every other mechanism, AES-ECB included), DERIVE false. Why no derivation: C_DeriveKey lets the
   * caller choose the derived key's template, so anyone with the user PIN could derive a
   * per-request key as SENSITIVE false and read it; SoftHSM2 2.6.1 does not know
   * CKA_DERIVE_TEMPLATE (refused with CKR_ATTRIBUTE_TYPE_INVALID), so no template of the HBK can
   * stop that.
   *
   * <p>{@link BackingKeyUse#DERIVE}: DERIVE only, the HBK of generations made before.
   */
  private static AttributeVector backingKeyPins(BackingKeyUse use, AttributeVector template) {
    boolean gcm = use == BackingKeyUse.AES_GCM;
    template
        .sensitive(true)
        .wrapWithTrusted(true)
        .derive(!gcm)
        .encrypt(gcm)
        .decrypt(gcm)
        .wrap(false)
        .unwrap(false)
        .sign(false)
        .verify(false);
    if (gcm) {
      template.allowedMechanisms(new long[] {PKCS11Constants.CKM_AES_GCM});
    }
    return template.modifiable(false);
  }

  /**
   * A one-use derived AES-256 key that can do exactly one of encrypt or decrypt: only for HBKs of
   * {@link BackingKeyUse#DERIVE}.
   */
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
   * A domain key of {@code role}: a public token object (an SO session can create only public
   * objects), TRUSTED so that it may wrap WRAP_WITH_TRUSTED keys, WRAP and UNWRAP only, with the
   * role's WRAP_TEMPLATE and UNWRAP_TEMPLATE. Every domain key the ceremony makes, and every one a
   * domain join lands, is built here from its role and generation alone.
   *
   * <p>EXTRACTABLE with WRAP_WITH_TRUSTED: it can leave the token only wrapped under another
   * TRUSTED key, which only the SO can make; that is how the domain-join ceremony copies it to
   * another HSM ({@link DomainJoin}). SENSITIVE, so its value is never readable.
   *
   * <p>Not MODIFIABLE, not COPYABLE, not DESTROYABLE: a public object is open to every user
   * session, and SoftHSM2 lets a user session set CKA_DECRYPT on a modifiable public key. A domain
   * key that can AES-ECB decrypt gives up every EKT (RFC 3394 unwrapping is AES-ECB decryption and
   * XOR). A copy with a new template would do the same; a destroyed domain key loses every EKT
   * wrapped under it. MODIFIABLE comes last: SoftHSM2 applies a template in order and refuses every
   * attribute after MODIFIABLE false (CKR_ATTRIBUTE_READ_ONLY) when it unwraps.
   */
  public static AttributeVector domainKey(DomainKeyRole role, int generation) {
    return domainKey(role, generation, wrapTemplate(role), unwrapTemplate(role));
  }

  /**
   * A domain key of {@code role} for a token that does not enforce custody ({@link
   * TokenCapabilities#custodyEnforced()}): {@link #domainKey(DomainKeyRole, int)} without the
   * attributes such a token neither keeps nor enforces. NSS softoken 3.87 refuses CKA_COPYABLE and
   * CKA_DESTROYABLE on a token object (CKR_GENERAL_ERROR: its database has no column for them) and
   * drops CKA_WRAP_TEMPLATE and CKA_UNWRAP_TEMPLATE. What it keeps (TRUSTED, SENSITIVE, the usages,
   * MODIFIABLE false) is set as on any token. Not EXTRACTABLE: such a token does not stop a wrap
   * under an untrusted key, so the domain key itself never leaves it, and it is no source of a
   * domain join.
   */
  public static AttributeVector domainKeyWithoutCustody(DomainKeyRole role, int generation) {
    return domainKey(role, generation, null, null);
  }

  /** {@code domain-key/<generation>}: {@link #domainKey(DomainKeyRole, int)} for backing keys. */
  public static AttributeVector domainKey(int generation) {
    return domainKey(DomainKeyRole.SYMMETRIC, generation);
  }

  /**
   * {@code domain-key-asym/<generation>}: {@link #domainKey(DomainKeyRole, int)} for private keys.
   */
  public static AttributeVector asymDomainKey(int generation) {
    return domainKey(DomainKeyRole.ASYMMETRIC, generation);
  }

  /**
   * A domain key with the templates the ceremony gave {@code role} before they pinned class, type
   * and usage: for tests that build an older token, and for a domain join that lands an older
   * generation as it was. {@link DomainKeyRole#HMAC} did not exist then.
   */
  public static AttributeVector previousDomainKey(DomainKeyRole role, int generation) {
    return switch (role) {
      case SYMMETRIC ->
          domainKey(
              role,
              generation,
              new AttributeVector().derive(true),
              backingKeyPins(BackingKeyUse.DERIVE, new AttributeVector()));
      case ASYMMETRIC ->
          domainKey(
              role,
              generation,
              new AttributeVector().unwrap(false),
              new AttributeVector()
                  .sensitive(true)
                  .wrapWithTrusted(true)
                  .modifiable(false)
                  .unwrap(false)
                  .derive(false));
      case HMAC -> throw new IllegalArgumentException("no previous HMAC domain key");
    };
  }

  /**
   * With {@code wrap} and {@code unwrap} null: for a token without custody, no templates, no
   * COPYABLE or DESTROYABLE, and not EXTRACTABLE.
   */
  private static AttributeVector domainKey(
      DomainKeyRole role, int generation, AttributeVector wrap, AttributeVector unwrap) {
    AttributeVector key =
        AttributeVector.newAESSecretKey()
            .valueLen(AES_256_BYTES)
            .label(role.label(generation))
            .token(true)
            .private_(false)
            .trusted(true)
            .sensitive(true)
            .extractable(wrap != null)
            .wrapWithTrusted(true)
            .wrap(true)
            .unwrap(true)
            .encrypt(false)
            .decrypt(false)
            .sign(false)
            .verify(false)
            .derive(false);
    if (wrap != null) {
      key.copyable(false).destroyable(false).wrapTemplate(wrap).unwrapTemplate(unwrap);
    }
    return key.modifiable(false);
  }

  /**
   * What a domain key of {@code role} may wrap: exactly the keys of its kind, by class, type and
   * usage. So a key of one kind, once unwrapped EXTRACTABLE (as a re-wrap must), cannot be wrapped
   * under another kind's domain key and unwrapped there with other usages; and no domain key (AES,
   * WRAP and UNWRAP, no ENCRYPT, no SIGN) fits any of them.
   */
  static AttributeVector wrapTemplate(DomainKeyRole role) {
    return switch (role) {
      case SYMMETRIC ->
          new AttributeVector()
              .class_(PKCS11Constants.CKO_SECRET_KEY)
              .keyType(PKCS11Constants.CKK_AES)
              .encrypt(true)
              .decrypt(true)
              .derive(false)
              .wrap(false)
              .unwrap(false)
              .sign(false)
              .verify(false);
      case ASYMMETRIC ->
          new AttributeVector().class_(PKCS11Constants.CKO_PRIVATE_KEY).unwrap(false).derive(false);
      case HMAC ->
          hmacUsage(
              new AttributeVector()
                  .class_(PKCS11Constants.CKO_SECRET_KEY)
                  .keyType(PKCS11Constants.CKK_GENERIC_SECRET));
    };
  }

  /**
   * An HMAC key's usages, each set explicitly: SIGN and VERIFY, and no ENCRYPT, DECRYPT, WRAP,
   * UNWRAP or DERIVE.
   */
  static AttributeVector hmacUsage(AttributeVector template) {
    return template
        .sign(true)
        .verify(true)
        .encrypt(false)
        .decrypt(false)
        .wrap(false)
        .unwrap(false)
        .derive(false);
  }

  /**
   * What an unwrap under a domain key of {@code role} must produce, enforced by the token whatever
   * template the caller passes: the role's class and type, SENSITIVE, wrappable only by a trusted
   * key, not MODIFIABLE, and the role's usage.
   *
   * <p>EXTRACTABLE is left to the caller: a re-wrap must unwrap the key EXTRACTABLE to wrap it
   * under the next generation, and the WRAP_TEMPLATE of every domain key ({@link #wrapTemplate})
   * admits only keys of its own kind, so an extractable key can go only where it came from.
   *
   * <p>{@link DomainKeyRole#ASYMMETRIC}: CKO_PRIVATE_KEY (RSA or EC: the key type cannot be pinned
   * for both; a PKCS#8 of one does not unwrap as the other), never UNWRAP or DERIVE; SIGN and
   * DECRYPT are the caller's (the key's usage). ENCRYPT and WRAP do not exist on a private key
   * (SoftHSM2 refuses them in its template with CKR_ATTRIBUTE_TYPE_INVALID), so they cannot be
   * pinned and need not be.
   */
  static AttributeVector unwrapTemplate(DomainKeyRole role) {
    return switch (role) {
      case SYMMETRIC ->
          backingKeyPins(
              BackingKeyUse.AES_GCM,
              new AttributeVector()
                  .class_(PKCS11Constants.CKO_SECRET_KEY)
                  .keyType(PKCS11Constants.CKK_AES));
      case ASYMMETRIC ->
          new AttributeVector()
              .class_(PKCS11Constants.CKO_PRIVATE_KEY)
              .sensitive(true)
              .wrapWithTrusted(true)
              .unwrap(false)
              .derive(false)
              .modifiable(false);
      case HMAC ->
          hmacUsage(
                  new AttributeVector()
                      .class_(PKCS11Constants.CKO_SECRET_KEY)
                      .keyType(PKCS11Constants.CKK_GENERIC_SECRET)
                      .sensitive(true)
                      .wrapWithTrusted(true))
              .modifiable(false);
    };
  }

  /** Finds the TRUSTED domain key of {@code role} and {@code generation}. */
  public static AttributeVector trustedDomainKeyByLabel(DomainKeyRole role, int generation) {
    return domainKeyByLabel(role, generation).trusted(true);
  }

  /**
   * Finds any secret token object labelled as the domain key of {@code role} and {@code
   * generation}.
   */
  public static AttributeVector domainKeyByLabel(DomainKeyRole role, int generation) {
    return new AttributeVector()
        .class_(PKCS11Constants.CKO_SECRET_KEY)
        .token(true)
        .label(role.label(generation));
  }

  static AttributeVector trustedAsymDomainKeyByLabel(int generation) {
    return trustedDomainKeyByLabel(DomainKeyRole.ASYMMETRIC, generation);
  }

  static AttributeVector asymDomainKeyByLabel(int generation) {
    return domainKeyByLabel(DomainKeyRole.ASYMMETRIC, generation);
  }

  /** Finds secret keys that are token objects (domain keys are among them). */
  public static AttributeVector tokenSecretKeys() {
    return new AttributeVector().class_(PKCS11Constants.CKO_SECRET_KEY).token(true);
  }

  /**
   * Domain keys the service will use: TRUSTED ones only. Only the security officer can set TRUSTED,
   * so a key a user session planted under a {@code domain-key/<n>} label is never picked up (it
   * would break key creation, or make a label ambiguous).
   */
  public static AttributeVector trustedTokenSecretKeys() {
    return tokenSecretKeys().trusted(true);
  }

  static AttributeVector trustedDomainKeyByLabel(int generation) {
    return trustedDomainKeyByLabel(DomainKeyRole.SYMMETRIC, generation);
  }

  public static AttributeVector domainKeyByLabel(int generation) {
    return domainKeyByLabel(DomainKeyRole.SYMMETRIC, generation);
  }
}
