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
  static final String DOMAIN_KEY_PREFIX = DomainKeyRole.SYMMETRIC.labelPrefix();

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
  static AttributeVector newBackingKey(BackingKeyUse use) {
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
   */
  static AttributeVector unwrappedBackingKey(BackingKeyUse use) {
    return backingKeyPins(
        use, AttributeVector.newAESSecretKey().token(false).private_(true).extractable(false));
  }

  /** An HBK unwrapped to be wrapped again under another domain key generation: EXTRACTABLE. */
  static AttributeVector rewrappableBackingKey(BackingKeyUse use) {
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
  static AttributeVector domainKey(DomainKeyRole role, int generation) {
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
  static AttributeVector domainKeyWithoutCustody(DomainKeyRole role, int generation) {
    return domainKey(role, generation, null, null);
  }

  /** {@code domain-key/<generation>}: {@link #domainKey(DomainKeyRole, int)} for backing keys. */
  static AttributeVector domainKey(int generation) {
    return domainKey(DomainKeyRole.SYMMETRIC, generation);
  }

  /**
   * {@code domain-key-asym/<generation>}: {@link #domainKey(DomainKeyRole, int)} for private keys.
   */
  static AttributeVector asymDomainKey(int generation) {
    return domainKey(DomainKeyRole.ASYMMETRIC, generation);
  }

  /**
   * A domain key with the templates the ceremony gave {@code role} before they pinned class, type
   * and usage: for tests that build an older token, and for a domain join that lands an older
   * generation as it was. {@link DomainKeyRole#HMAC} did not exist then.
   */
  static AttributeVector previousDomainKey(DomainKeyRole role, int generation) {
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
          new AttributeVector()
              .class_(PKCS11Constants.CKO_SECRET_KEY)
              .keyType(PKCS11Constants.CKK_GENERIC_SECRET)
              .sign(true)
              .verify(true)
              .encrypt(false)
              .decrypt(false)
              .wrap(false)
              .unwrap(false)
              .derive(false);
    };
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
          new AttributeVector()
              .class_(PKCS11Constants.CKO_SECRET_KEY)
              .keyType(PKCS11Constants.CKK_GENERIC_SECRET)
              .sensitive(true)
              .wrapWithTrusted(true)
              .sign(true)
              .verify(true)
              .encrypt(false)
              .decrypt(false)
              .wrap(false)
              .unwrap(false)
              .derive(false)
              .modifiable(false);
    };
  }

  /** Finds the TRUSTED domain key of {@code role} and {@code generation}. */
  static AttributeVector trustedDomainKeyByLabel(DomainKeyRole role, int generation) {
    return domainKeyByLabel(role, generation).trusted(true);
  }

  /**
   * Finds any secret token object labelled as the domain key of {@code role} and {@code
   * generation}.
   */
  static AttributeVector domainKeyByLabel(DomainKeyRole role, int generation) {
    return new AttributeVector()
        .class_(PKCS11Constants.CKO_SECRET_KEY)
        .token(true)
        .label(role.label(generation));
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
   * usage that needs it. VERIFY and ENCRYPT are left to the token: NSS softoken 3.87 refuses either
   * set false on a key pair's public half (CKR_KEY_TYPE_INCONSISTENT), and both are operations
   * anyone can do with the public key, which is destroyed once read.
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
        .verifyRecover(false)
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

  /**
   * An HMAC key made from a known value (C_CreateObject): as {@link #hmacKey} EXTRACTABLE, so that
   * it can be wrapped under the HMAC domain key at once, and only by a trusted key.
   */
  static AttributeVector importedHmacKey(byte[] value) {
    return hmacKey(true).value(value);
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
    return signingKeyByLabel(label, true);
  }

  /**
   * As {@link #signingKeyByLabel(String)}, without LOCAL when {@code local} is false: for a token
   * that does not mark the keys it generates LOCAL ({@link
   * TokenCapabilities#marksGeneratedKeysLocal()}; NSS softoken 3.87 leaves CKA_LOCAL false).
   */
  static AttributeVector signingKeyByLabel(String label, boolean local) {
    AttributeVector template =
        AttributeVector.newSecretKey(PKCS11Constants.CKK_GENERIC_SECRET)
            .label(label)
            .token(true)
            .private_(true)
            .sign(true)
            .alwaysSensitive(true)
            .neverExtractable(true);
    return local ? template.local(true) : template;
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
    return AttributeVector.newRSAPrivateKey()
        .token(true)
        .private_(true)
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
            algorithm.ephemeralAesKey()
                ? ephemeralImportKeyPins(new AttributeVector())
                : unwrapTemplate(DomainKeyRole.SYMMETRIC))
        .modifiable(false);
  }

  /** The public half: a session object, only read for its modulus, then destroyed. */
  static AttributeVector importWrappingPublicKey(int bits) {
    return AttributeVector.newRSAPublicKey()
        .token(false)
        .private_(false)
        .modulusBits(bits)
        .publicExponent(java.math.BigInteger.valueOf(65537))
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
            .unwrapTemplate(unwrapTemplate(DomainKeyRole.SYMMETRIC)));
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
  static AttributeVector importWrappingKeyByLabel(String label) {
    return new AttributeVector().class_(PKCS11Constants.CKO_PRIVATE_KEY).token(true).label(label);
  }

  /** Finds every private key that is a token object (import wrapping keys are among them). */
  static AttributeVector tokenPrivateKeys() {
    return new AttributeVector().class_(PKCS11Constants.CKO_PRIVATE_KEY).token(true);
  }

  /** The target's transport key on the source: a TRUSTED session object that can only wrap. */
  static AttributeVector importedTransportKey(String label, TransportKey key) {
    return trustedWrappingPublicKey(label, key, false);
  }

  /**
   * A peer region's transport key on the source region's token: a TRUSTED public token object (only
   * the SO can make one) that can only wrap, and only a backing key (its WRAP_TEMPLATE is the
   * symmetric domain key's, which no domain key fits), so that the service can send a backing key
   * to that region at run time and nothing else.
   */
  static AttributeVector regionPeerKey(String label, TransportKey key) {
    return trustedWrappingPublicKey(label, key, true)
        .wrapTemplate(wrapTemplate(DomainKeyRole.SYMMETRIC));
  }

  /** Finds the public key labelled {@code label} that is a TRUSTED token object. */
  static AttributeVector trustedPublicKeyByLabel(String label) {
    return new AttributeVector()
        .class_(PKCS11Constants.CKO_PUBLIC_KEY)
        .token(true)
        .trusted(true)
        .label(label);
  }

  /** Every public key that is a TRUSTED token object. */
  static AttributeVector trustedTokenPublicKeys() {
    return new AttributeVector().class_(PKCS11Constants.CKO_PUBLIC_KEY).token(true).trusted(true);
  }

  /**
   * A region's transport private key: a private token object, SENSITIVE, never extractable, that
   * can only unwrap, and only into a backing key (the symmetric domain key's UNWRAP_TEMPLATE),
   * which the service wraps at once under the region's domain key.
   */
  static AttributeVector regionTransportPrivateKey(String label) {
    return importWrappingPrivateKey(label, ImportWrappingAlgorithm.RSAES_OAEP_SHA_256);
  }

  private static AttributeVector trustedWrappingPublicKey(
      String label, TransportKey key, boolean tokenObject) {
    return AttributeVector.newRSAPublicKey()
        .token(tokenObject)
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
