package io.p11kms.hsm;

import io.p11kms.hsm.diagnostics.PaddedKeyWrap;

/** How an EKT was wrapped. The code is stored with the EKT; never renumber. */
public enum WrapMechanism {
  /** CKM_AES_KEY_WRAP, RFC 3394: the same bytes on every token. Used for AES keys. */
  AES_KEY_WRAP(1),
  /**
   * RFC 5649 (AES key wrap with padding), for material that need not be a multiple of 8 bytes: what
   * SoftHSM2's CKM_AES_KEY_WRAP_PAD writes, PKCS#11 3.0's CKM_AES_KEY_WRAP_KWP. On a token whose
   * CKM_AES_KEY_WRAP_PAD writes neither this nor {@link #AES_KEY_WRAP_PKCS7}, that token's own
   * format ({@link PaddedKeyWrap}).
   */
  AES_KEY_WRAP_PAD(2),
  /**
   * PKCS#7 padding to a multiple of 8 bytes, then RFC 3394: what NSS softoken's
   * CKM_AES_KEY_WRAP_PAD writes, PKCS#11 3.0's CKM_AES_KEY_WRAP_PKCS7.
   */
  AES_KEY_WRAP_PKCS7(3);

  private final int code;

  WrapMechanism(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  public static WrapMechanism fromCode(int code) {
    for (WrapMechanism m : values()) {
      if (m.code == code) {
        return m;
      }
    }
    throw new IllegalArgumentException("unknown wrap mechanism code " + code);
  }
}
