package io.p11kms.hsm;

/**
 * An asymmetric key pair the token generates: RSA with the modulus size in bits, or EC on a named
 * curve. {@link Hsm#supportedKeyPairTypes()} says which ones this token can make.
 */
public enum KeyPairType {
  RSA_2048(2048),
  RSA_3072(3072),
  RSA_4096(4096),
  EC_P256(256),
  EC_P384(384),
  EC_P521(521),
  /** secp256k1, only where the token can generate it. */
  EC_SECP256K1(256);

  private final int bits;

  KeyPairType(int bits) {
    this.bits = bits;
  }

  /** Whether this is an RSA pair (else EC). */
  public boolean isRsa() {
    return name().startsWith("RSA_");
  }

  /** The RSA modulus size, or the EC field size, in bits. */
  public int bits() {
    return bits;
  }
}
