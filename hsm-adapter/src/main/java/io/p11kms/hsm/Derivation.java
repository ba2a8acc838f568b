package io.p11kms.hsm;

import java.util.Optional;

/**
 * How a one-use encryption key is derived from a backing key and a salt. The code is written into
 * every ciphertext so that decryption never guesses; never renumber.
 */
public enum Derivation {
  /** CKM_SP800_108_COUNTER_KDF with HMAC-SHA256 as PRF (PKCS#11 3.0), where the token has it. */
  SP800_108_COUNTER_HMAC_SHA256(1),
  /** CKM_AES_ECB_ENCRYPT_DATA over the 32-byte salt: the fallback every AES token offers. */
  AES_ECB_ENCRYPT_DATA(2);

  private final int code;

  Derivation(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  public static Optional<Derivation> fromCode(int code) {
    for (Derivation d : values()) {
      if (d.code == code) {
        return Optional.of(d);
      }
    }
    return Optional.empty();
  }
}
