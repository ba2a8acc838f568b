package io.p11kms.hsm;

/**
 * No import wrapping key of that id is on the token: it was used, it expired and was destroyed, or
 * another token made it.
 */
public class ImportWrappingKeyNotFoundException extends HsmException {
  private static final long serialVersionUID = 1L;

  public ImportWrappingKeyNotFoundException(String message) {
    super(message);
  }
}
