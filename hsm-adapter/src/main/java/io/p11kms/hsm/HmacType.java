package io.p11kms.hsm;

/** An HMAC key and its hash. The key is as long as the digest, as AWS KMS's HMAC_224..HMAC_512. */
public enum HmacType {
  HMAC_SHA224(28),
  HMAC_SHA256(32),
  HMAC_SHA384(48),
  HMAC_SHA512(64);

  private final int length;

  HmacType(int length) {
    this.length = length;
  }

  /** Bytes of the key, and of the MAC. */
  public int length() {
    return length;
  }
}
