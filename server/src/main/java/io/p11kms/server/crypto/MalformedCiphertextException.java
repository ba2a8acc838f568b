package io.p11kms.server.crypto;

/**
 * A ciphertext blob could not be parsed. The message is always the same, so that a caller learns
 * nothing about which check failed; the service maps it to {@code InvalidCiphertextException}.
 */
public final class MalformedCiphertextException extends Exception {
  private static final long serialVersionUID = 1L;

  /** The one message every instance carries. */
  public static final String MESSAGE = "ciphertext is malformed";

  public MalformedCiphertextException() {
    super(MESSAGE);
  }
}
