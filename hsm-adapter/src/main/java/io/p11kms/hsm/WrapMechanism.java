package io.p11kms.hsm;

/** How an EKT was wrapped. The code is stored with the EKT; never renumber. */
public enum WrapMechanism {
  /** CKM_AES_KEY_WRAP, RFC 3394: the same bytes on every token. Used for AES keys. */
  AES_KEY_WRAP(1),
  /** CKM_AES_KEY_WRAP_PAD: for material that is not a multiple of 8 bytes. */
  AES_KEY_WRAP_PAD(2);

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
