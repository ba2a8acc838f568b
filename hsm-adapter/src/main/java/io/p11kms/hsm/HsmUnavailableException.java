package io.p11kms.hsm;

/** The token could not be reached or did not answer in time. Retrying later may succeed. */
public class HsmUnavailableException extends HsmException {
  private static final long serialVersionUID = 1L;

  public HsmUnavailableException(String message) {
    super(message);
  }

  public HsmUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
