package io.p11kms.server.service;

import io.p11kms.hsm.DigestAlgorithm;
import java.util.List;

/** Encrypt and Decrypt algorithms, as AWS KMS names them. */
public enum EncryptionAlgorithm {
  /** AES-256-GCM under a derived key: symmetric keys. */
  SYMMETRIC_DEFAULT(null),
  /** RSA OAEP with SHA-1 and MGF1-SHA-1: RSA keys. */
  RSAES_OAEP_SHA_1(DigestAlgorithm.SHA_1),
  /** RSA OAEP with SHA-256 and MGF1-SHA-256: RSA keys. */
  RSAES_OAEP_SHA_256(DigestAlgorithm.SHA_256);

  private final DigestAlgorithm oaepHash;

  EncryptionAlgorithm(DigestAlgorithm oaepHash) {
    this.oaepHash = oaepHash;
  }

  /** The OAEP hash (and MGF1 hash) of an RSA algorithm. */
  DigestAlgorithm oaepHash() {
    return oaepHash;
  }

  /** What a key of this spec and usage encrypts with; empty for keys that do not encrypt. */
  public static List<EncryptionAlgorithm> of(KeySpec spec, KeyUsage usage) {
    if (usage != KeyUsage.ENCRYPT_DECRYPT) {
      return List.of();
    }
    if (spec.isSymmetric()) {
      return List.of(SYMMETRIC_DEFAULT);
    }
    return spec.isRsa() ? List.of(RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256) : List.of();
  }

  /**
   * The largest plaintext RSA OAEP encrypts under a {@code modulusBytes} key: k - 2 hLen - 2 (RFC
   * 8017), which gives AWS KMS's table (RSA_2048: 214 with SHA-1, 190 with SHA-256).
   */
  int maxPlaintextBytes(int modulusBytes) {
    return modulusBytes - 2 * oaepHash.length() - 2;
  }
}
