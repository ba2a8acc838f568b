package io.p11kms.server.auth;

/** A key policy document that is not valid in the supported grammar; the message says why. */
public final class MalformedPolicyException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public MalformedPolicyException(String message) {
    super(message);
  }
}
