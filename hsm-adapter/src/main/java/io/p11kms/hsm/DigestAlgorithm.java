package io.p11kms.hsm;

/** A hash: of the message a digest is signed over, or of OAEP and its MGF1. */
public enum DigestAlgorithm {
  SHA_1(20),
  SHA_256(32),
  SHA_384(48),
  SHA_512(64);

  private final int length;

  DigestAlgorithm(int length) {
    this.length = length;
  }

  /** Bytes of a digest. */
  public int length() {
    return length;
  }
}
