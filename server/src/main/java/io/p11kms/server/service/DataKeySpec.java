package io.p11kms.server.service;

/** The length of a data key, as GenerateDataKey's KeySpec gives it. */
public enum DataKeySpec {
  AES_128(16),
  AES_256(32);

  private final int bytes;

  DataKeySpec(int bytes) {
    this.bytes = bytes;
  }

  public int bytes() {
    return bytes;
  }
}
