package io.p11kms.server.service;

import io.p11kms.hsm.HmacType;
import io.p11kms.hsm.KeyPairType;
import java.util.Optional;
import java.util.Set;

/** The kind of key material, as AWS KMS names it. Stored by name. */
public enum KeySpec {
  /** A 256-bit AES backing key used through per-request derived AES-GCM keys. */
  SYMMETRIC_DEFAULT(null, null, Set.of(KeyUsage.ENCRYPT_DECRYPT)),
  RSA_2048(KeyPairType.RSA_2048, null, Set.of(KeyUsage.ENCRYPT_DECRYPT, KeyUsage.SIGN_VERIFY)),
  RSA_3072(KeyPairType.RSA_3072, null, Set.of(KeyUsage.ENCRYPT_DECRYPT, KeyUsage.SIGN_VERIFY)),
  RSA_4096(KeyPairType.RSA_4096, null, Set.of(KeyUsage.ENCRYPT_DECRYPT, KeyUsage.SIGN_VERIFY)),
  ECC_NIST_P256(KeyPairType.EC_P256, null, Set.of(KeyUsage.SIGN_VERIFY)),
  ECC_NIST_P384(KeyPairType.EC_P384, null, Set.of(KeyUsage.SIGN_VERIFY)),
  ECC_NIST_P521(KeyPairType.EC_P521, null, Set.of(KeyUsage.SIGN_VERIFY)),
  ECC_SECG_P256K1(KeyPairType.EC_SECP256K1, null, Set.of(KeyUsage.SIGN_VERIFY)),
  HMAC_224(null, HmacType.HMAC_SHA224, Set.of(KeyUsage.GENERATE_VERIFY_MAC)),
  HMAC_256(null, HmacType.HMAC_SHA256, Set.of(KeyUsage.GENERATE_VERIFY_MAC)),
  HMAC_384(null, HmacType.HMAC_SHA384, Set.of(KeyUsage.GENERATE_VERIFY_MAC)),
  HMAC_512(null, HmacType.HMAC_SHA512, Set.of(KeyUsage.GENERATE_VERIFY_MAC));

  private final KeyPairType keyPairType;
  private final HmacType hmacType;
  private final Set<KeyUsage> usages;

  KeySpec(KeyPairType keyPairType, HmacType hmacType, Set<KeyUsage> usages) {
    this.keyPairType = keyPairType;
    this.hmacType = hmacType;
    this.usages = usages;
  }

  /** The token's key pair type, for RSA and ECC specs. */
  public Optional<KeyPairType> keyPairType() {
    return Optional.ofNullable(keyPairType);
  }

  /** The token's HMAC key type, for HMAC specs. */
  public Optional<HmacType> hmacType() {
    return Optional.ofNullable(hmacType);
  }

  /** The key usages AWS KMS allows with this spec (KEY_AGREEMENT is not offered here). */
  public Set<KeyUsage> usages() {
    return usages;
  }

  public boolean isSymmetric() {
    return this == SYMMETRIC_DEFAULT;
  }

  /** RSA or ECC: a key pair whose public key can be read. */
  public boolean isAsymmetric() {
    return keyPairType != null;
  }

  public boolean isRsa() {
    return keyPairType != null && keyPairType.isRsa();
  }

  /** RSA modulus bytes (the ciphertext and signature length); 0 for other specs. */
  int rsaModulusBytes() {
    return isRsa() ? keyPairType.bits() / 8 : 0;
  }
}
