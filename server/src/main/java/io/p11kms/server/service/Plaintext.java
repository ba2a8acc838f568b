package io.p11kms.server.service;

import java.util.Arrays;
import java.util.UUID;

/**
 * Decrypted bytes and the key that decrypted them. Holds the caller's data (or a data key): {@link
 * #toString()} never shows it, and {@link #wipe()} clears it once the response is built.
 */
public final class Plaintext {
  private final UUID keyId;
  private final String keyArn;
  private final byte[] bytes;

  Plaintext(UUID keyId, String keyArn, byte[] bytes) {
    this.keyId = keyId;
    this.keyArn = keyArn;
    this.bytes = bytes;
  }

  public UUID keyId() {
    return keyId;
  }

  public String keyArn() {
    return keyArn;
  }

  /** The bytes themselves, not a copy: callers copy them out once, then call {@link #wipe()}. */
  public byte[] bytes() {
    return bytes;
  }

  public void wipe() {
    Arrays.fill(bytes, (byte) 0);
  }

  @Override
  public String toString() {
    return "Plaintext[keyId=" + keyId + ", " + bytes.length + " bytes]";
  }
}
