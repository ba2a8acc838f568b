package io.p11kms.server.audit;

/** An audit record could not be written: the request it records must fail. */
public final class AuditException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public AuditException(String message, Throwable cause) {
    super(message, cause);
  }
}
