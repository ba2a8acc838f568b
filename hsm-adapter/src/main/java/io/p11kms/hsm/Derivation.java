package io.p11kms.hsm;

import io.p11kms.hsm.keys.BackingKeyUse;
import java.util.Optional;

/**
 * How the AES-GCM key of one ciphertext comes from its backing key. The code is written into every
 * ciphertext so that decryption never guesses; never renumber.
 */
public enum Derivation {
  /** CKM_SP800_108_COUNTER_KDF with HMAC-SHA256 as PRF (PKCS#11 3.0), where the token has it. */
  SP800_108_COUNTER_HMAC_SHA256(1),
  /**
   * CKM_AES_ECB_ENCRYPT_DATA over the 32-byte salt, the derived key AES-ECB(backing key, salt).
   * Only backing keys of domain key generations made before {@link #NONE_AES_GCM} can derive; see
   * {@link BackingKeyUse#DERIVE}.
   */
  AES_ECB_ENCRYPT_DATA(2),
  /**
   * No derivation: AES-GCM under the backing key itself, which the token lets do nothing else (the
   * salt is only authenticated, as part of the header).
   */
  NONE_AES_GCM(3);

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
