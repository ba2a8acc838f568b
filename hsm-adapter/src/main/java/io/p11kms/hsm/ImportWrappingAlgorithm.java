package io.p11kms.hsm;

/**
 * How key material to be imported is wrapped for the token, as AWS KMS names the algorithms
 * (GetParametersForImport's WrappingAlgorithm). The material is unwrapped inside the token either
 * way.
 *
 * <ul>
 *   <li>{@code RSAES_OAEP_*}: the material itself wrapped with RSAES-OAEP (MGF1 with the same hash,
 *       no label) under the wrapping public key.
 *   <li>{@code RSA_AES_KEY_WRAP_*}: an ephemeral AES key wrapped with RSAES-OAEP (as modulus-long
 *       bytes), followed by the material wrapped under that AES key with AES key wrap with padding
 *       (RFC 5649): PKCS#11's CKM_RSA_AES_KEY_WRAP layout.
 * </ul>
 */
public enum ImportWrappingAlgorithm {
  RSAES_OAEP_SHA_1(DigestAlgorithm.SHA_1, false),
  RSAES_OAEP_SHA_256(DigestAlgorithm.SHA_256, false),
  RSA_AES_KEY_WRAP_SHA_1(DigestAlgorithm.SHA_1, true),
  RSA_AES_KEY_WRAP_SHA_256(DigestAlgorithm.SHA_256, true);

  private final DigestAlgorithm oaepHash;
  private final boolean ephemeralAesKey;

  ImportWrappingAlgorithm(DigestAlgorithm oaepHash, boolean ephemeralAesKey) {
    this.oaepHash = oaepHash;
    this.ephemeralAesKey = ephemeralAesKey;
  }

  /** The hash of RSAES-OAEP and of its MGF1. */
  public DigestAlgorithm oaepHash() {
    return oaepHash;
  }

  /** Whether the material comes wrapped under an ephemeral AES key that RSA-OAEP wraps. */
  public boolean ephemeralAesKey() {
    return ephemeralAesKey;
  }
}
