package io.p11kms.server.service;

/**
 * A failure the caller is told about. The message goes on the wire: it names the parameter and the
 * rule, never key material, plaintext or internal detail.
 */
public final class KmsException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final KmsError error;

  public KmsException(KmsError error, String message) {
    super(message, null, false, false);
    this.error = error;
  }

  public KmsError error() {
    return error;
  }

  static KmsException validation(String message) {
    return new KmsException(KmsError.VALIDATION, message);
  }

  static KmsException notFound(String message) {
    return new KmsException(KmsError.NOT_FOUND, message);
  }

  /** One message for every ciphertext failure, so that no failure tells which check it failed. */
  static KmsException invalidCiphertext() {
    return new KmsException(
        KmsError.INVALID_CIPHERTEXT,
        "The ciphertext is invalid, or does not match the key or the encryption context.");
  }
}
