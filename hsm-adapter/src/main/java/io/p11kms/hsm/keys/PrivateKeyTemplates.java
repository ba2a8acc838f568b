package io.p11kms.hsm.keys;

import io.p11kms.hsm.HmacType;
import io.p11kms.hsm.KeyPairType;
import io.p11kms.hsm.PrivateKeyUsage;
import java.math.BigInteger;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.PKCS11Constants;

/**
 * The templates of private keys, their public halves and HMAC keys, each usage attribute set
 * explicitly ({@link KeyTemplates} says why), and of the service's own signing keys.
 */
public final class PrivateKeyTemplates {
  private PrivateKeyTemplates() {}

  /**
   * A private key to be kept: a session object, SENSITIVE, EXTRACTABLE only so that it can be
   * wrapped, and then only by a trusted key; exactly one usage. Carries every attribute of the
   * asymmetric domain key's UNWRAP_TEMPLATE with the same value, so the same template unwraps it.
   */
  public static AttributeVector privateKey(
      KeyPairType type, PrivateKeyUsage usage, boolean extractable) {
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
  public static AttributeVector publicKey(KeyPairType type) {
    AttributeVector template;
    if (type.isRsa()) {
      template =
          AttributeVector.newRSAPublicKey()
              .modulusBits(type.bits())
              .publicExponent(BigInteger.valueOf(65537));
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
  public static AttributeVector hmacKey(boolean extractable) {
    return KeyTemplates.hmacUsage(
            AttributeVector.newSecretKey(PKCS11Constants.CKK_GENERIC_SECRET)
                .token(false)
                .private_(true)
                .sensitive(true)
                .extractable(extractable)
                .wrapWithTrusted(true))
        .modifiable(false);
  }

  /** A new HMAC key of {@code type}'s length. */
  public static AttributeVector newHmacKey(HmacType type) {
    return hmacKey(true).valueLen(type.length());
  }

  /**
   * An HMAC key made from a known value (C_CreateObject): as {@link #hmacKey} EXTRACTABLE, so that
   * it can be wrapped under the HMAC domain key at once, and only by a trusted key.
   */
  static AttributeVector importedHmacKey(byte[] value) {
    return hmacKey(true).value(value);
  }

  /**
   * A signing (HMAC-SHA256) key: a private token object, sensitive and never extractable, that can
   * only sign and verify.
   */
  public static AttributeVector signingKey(String label) {
    return AttributeVector.newSecretKey(PKCS11Constants.CKK_GENERIC_SECRET)
        .valueLen(KeyTemplates.AES_256_BYTES)
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
  public static AttributeVector signingKeyByLabel(String label) {
    return signingKeyByLabel(label, true);
  }

  /**
   * As {@link #signingKeyByLabel(String)}, without LOCAL when {@code local} is false: for a token
   * that does not mark the keys it generates LOCAL ({@link
   * TokenCapabilities#marksGeneratedKeysLocal()}; NSS softoken 3.87 leaves CKA_LOCAL false).
   */
  public static AttributeVector signingKeyByLabel(String label, boolean local) {
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
}
