package io.p11kms.server.service;

import io.p11kms.hsm.DigestAlgorithm;
import io.p11kms.hsm.SignatureScheme;
import java.util.List;

/** Sign and Verify algorithms, as AWS KMS names them. */
public enum SigningAlgorithm {
  RSASSA_PSS_SHA_256(SignatureScheme.RSA_PSS, DigestAlgorithm.SHA_256),
  RSASSA_PSS_SHA_384(SignatureScheme.RSA_PSS, DigestAlgorithm.SHA_384),
  RSASSA_PSS_SHA_512(SignatureScheme.RSA_PSS, DigestAlgorithm.SHA_512),
  RSASSA_PKCS1_V1_5_SHA_256(SignatureScheme.RSA_PKCS1_V1_5, DigestAlgorithm.SHA_256),
  RSASSA_PKCS1_V1_5_SHA_384(SignatureScheme.RSA_PKCS1_V1_5, DigestAlgorithm.SHA_384),
  RSASSA_PKCS1_V1_5_SHA_512(SignatureScheme.RSA_PKCS1_V1_5, DigestAlgorithm.SHA_512),
  ECDSA_SHA_256(SignatureScheme.ECDSA, DigestAlgorithm.SHA_256),
  ECDSA_SHA_384(SignatureScheme.ECDSA, DigestAlgorithm.SHA_384),
  ECDSA_SHA_512(SignatureScheme.ECDSA, DigestAlgorithm.SHA_512);

  private static final List<SigningAlgorithm> RSA =
      List.of(
          RSASSA_PSS_SHA_256,
          RSASSA_PSS_SHA_384,
          RSASSA_PSS_SHA_512,
          RSASSA_PKCS1_V1_5_SHA_256,
          RSASSA_PKCS1_V1_5_SHA_384,
          RSASSA_PKCS1_V1_5_SHA_512);

  private final SignatureScheme scheme;
  private final DigestAlgorithm digest;

  SigningAlgorithm(SignatureScheme scheme, DigestAlgorithm digest) {
    this.scheme = scheme;
    this.digest = digest;
  }

  SignatureScheme scheme() {
    return scheme;
  }

  /** The hash of the message (RAW) or the digest's algorithm (DIGEST). */
  DigestAlgorithm digest() {
    return digest;
  }

  /**
   * What a key of this spec and usage signs with, as AWS KMS: every RSASSA algorithm for RSA, one
   * ECDSA hash per curve (P-256 and secp256k1: SHA-256, P-384: SHA-384, P-521: SHA-512).
   */
  public static List<SigningAlgorithm> of(KeySpec spec, KeyUsage usage) {
    if (usage != KeyUsage.SIGN_VERIFY) {
      return List.of();
    }
    return switch (spec) {
      case RSA_2048, RSA_3072, RSA_4096 -> RSA;
      case ECC_NIST_P256, ECC_SECG_P256K1 -> List.of(ECDSA_SHA_256);
      case ECC_NIST_P384 -> List.of(ECDSA_SHA_384);
      case ECC_NIST_P521 -> List.of(ECDSA_SHA_512);
      default -> List.of();
    };
  }
}
