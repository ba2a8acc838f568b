package io.p11kms.server.service;

/** What a key may be used for. Stored by name. */
public enum KeyUsage {
  /** Encrypt and Decrypt (symmetric keys, RSA keys). */
  ENCRYPT_DECRYPT,
  /** Sign and Verify (RSA and ECC keys). */
  SIGN_VERIFY,
  /** GenerateMac and VerifyMac (HMAC keys). */
  GENERATE_VERIFY_MAC
}
