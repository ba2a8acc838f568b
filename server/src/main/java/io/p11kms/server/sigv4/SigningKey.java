package io.p11kms.server.sigv4;

/**
 * The SigV4 signing key of one access key for one day, region and service (the last step of the key
 * derivation, {@code kSigning}), with the caller it authenticates. Held only in memory; {@link
 * #toString()} does not show it.
 */
public final class SigningKey {
  private final AccessKeyCaller caller;
  private final byte[] key;

  public SigningKey(AccessKeyCaller caller, byte[] key) {
    if (caller == null || key == null || key.length != 32) {
      throw new IllegalArgumentException("a signing key is a caller and 32 bytes");
    }
    this.caller = caller;
    this.key = key.clone();
  }

  public AccessKeyCaller caller() {
    return caller;
  }

  byte[] key() {
    return key;
  }

  /** Whether {@code other} holds the same key bytes, compared in constant time (tests). */
  public boolean sameKeyAs(SigningKey other) {
    return java.security.MessageDigest.isEqual(key, other.key);
  }

  @Override
  public String toString() {
    return "SigningKey[" + caller.accessKeyId() + "]";
  }
}
