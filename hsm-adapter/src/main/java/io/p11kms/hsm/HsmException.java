package io.p11kms.hsm;

/** A token operation failed for a reason the caller cannot fix: an internal fault. */
public class HsmException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public HsmException(String message) {
    super(message);
  }

  public HsmException(String message, Throwable cause) {
    super(message, cause);
  }
}
