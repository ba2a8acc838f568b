package io.p11kms.hsm;

/** A ciphertext did not authenticate: tampered data, wrong AAD, or the wrong key. */
public class HsmDecryptionFailedException extends HsmException {
  private static final long serialVersionUID = 1L;

  public HsmDecryptionFailedException(String message) {
    super(message);
  }

  public HsmDecryptionFailedException(String message, Throwable cause) {
    super(message, cause);
  }
}
