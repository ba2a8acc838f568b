package io.p11kms.hsm.keys;

import io.p11kms.hsm.DigestAlgorithm;
import io.p11kms.hsm.HmacType;
import io.p11kms.hsm.HsmDecryptionFailedException;
import io.p11kms.hsm.KeyPairType;
import io.p11kms.hsm.PrivateKeyUsage;
import io.p11kms.hsm.SignatureScheme;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.hsm.session.Pkcs11Errors;

/** Argument checks of the asymmetric and HMAC operations, made before any token call. */
public final class AsymmetricChecks {
  private AsymmetricChecks() {}

  public static void keyPair(KeyPairType type, PrivateKeyUsage usage) {
    require(type != null && usage != null, "a key pair type and a usage are required");
    if (!type.isRsa() && usage == PrivateKeyUsage.DECRYPT) {
      throw new IllegalArgumentException(type + " keys cannot decrypt");
    }
  }

  public static void sign(
      WrappedKey key,
      KeyPairType type,
      SignatureScheme scheme,
      DigestAlgorithm digest,
      byte[] digestValue) {
    require(
        key != null && type != null && scheme != null && digest != null && digestValue != null,
        "a private key, its type, a scheme, a digest algorithm and a digest are required");
    if ((scheme == SignatureScheme.ECDSA) == type.isRsa()) {
      throw new IllegalArgumentException(scheme + " does not sign with " + type + " keys");
    }
    if (digestValue.length != digest.length()) {
      throw new IllegalArgumentException(
          "a " + digest + " digest is " + digest.length() + " bytes, not " + digestValue.length);
    }
  }

  /**
   * @throws HsmDecryptionFailedException when the ciphertext is not as long as the modulus (it
   *     cannot be one this key's public key made)
   */
  public static void decrypt(
      WrappedKey key, KeyPairType type, DigestAlgorithm hash, byte[] ciphertext) {
    require(
        key != null && type != null && hash != null && ciphertext != null,
        "a private key, its type, an OAEP hash and a ciphertext are required");
    if (!type.isRsa()) {
      throw new IllegalArgumentException(type + " keys cannot decrypt");
    }
    if (ciphertext.length != type.bits() / 8) {
      throw new HsmDecryptionFailedException(Pkcs11Errors.DECRYPTION_FAILED);
    }
  }

  public static void mac(WrappedKey key, HmacType type, byte[] message) {
    require(
        key != null && type != null && message != null,
        "an HMAC key, its type and a message are required");
  }

  public static void importHmac(byte[] value) {
    require(
        value != null && value.length >= 16 && value.length <= 128,
        "an imported HMAC key is 16 to 128 bytes");
  }

  public static void rewrap(
      WrappedKey ekt, KeyPairType type, HmacType hmac, PrivateKeyUsage usage, int toGeneration) {
    require(ekt != null && toGeneration >= 1, "an EKT and a generation of at least 1 are required");
    boolean privateKey = type != null && usage != null && hmac == null;
    boolean hmacKey = hmac != null && type == null && usage == null;
    require(privateKey || hmacKey, "give a key pair type and usage, or an HMAC type, not both");
  }

  public static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }
}
