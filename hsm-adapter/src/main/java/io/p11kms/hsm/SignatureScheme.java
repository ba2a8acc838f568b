package io.p11kms.hsm;

/**
 * How {@link Hsm#signDigest} signs: RSASSA-PKCS1-v1_5 over a DigestInfo, RSASSA-PSS (salt length =
 * digest length, MGF1 with the same hash), or ECDSA.
 */
public enum SignatureScheme {
  RSA_PKCS1_V1_5,
  RSA_PSS,
  ECDSA
}
