package io.p11kms.server.xks;

import io.p11kms.server.service.KmsError;

/**
 * The errors of the XKS proxy API specification, each with its HTTP status; the service's errors
 * map onto them ({@link #of}).
 */
public enum XksError {
  VALIDATION("ValidationException", 400),
  INVALID_STATE("InvalidStateException", 400),
  INVALID_CIPHERTEXT("InvalidCiphertextException", 400),
  INVALID_KEY_USAGE("InvalidKeyUsageException", 400),
  AUTHENTICATION_FAILED("AuthenticationFailedException", 401),
  ACCESS_DENIED("AccessDeniedException", 403),
  KEY_NOT_FOUND("KeyNotFoundException", 404),
  INVALID_URI_PATH("InvalidUriPathException", 404),
  /** Not in the specification's table: any method but POST (status 405, Method Not Allowed). */
  METHOD_NOT_ALLOWED("UnsupportedOperationException", 405),
  THROTTLING("ThrottlingException", 429),
  INTERNAL("InternalException", 500),
  UNSUPPORTED_OPERATION("UnsupportedOperationException", 501),
  DEPENDENCY_TIMEOUT("DependencyTimeoutException", 503);

  private final String errorName;
  private final int status;

  XksError(String errorName, int status) {
    this.errorName = errorName;
    this.status = status;
  }

  /** The name the response's {@code errorName} carries. */
  public String errorName() {
    return errorName;
  }

  /** The HTTP status. */
  public int status() {
    return status;
  }

  /** The XKS error a service error is on this API. */
  public static XksError of(KmsError error) {
    return switch (error) {
      case VALIDATION, INVALID_MARKER, MALFORMED_POLICY -> VALIDATION;
      case NOT_FOUND -> KEY_NOT_FOUND;
      case DISABLED, INVALID_STATE -> INVALID_STATE;
      case INVALID_CIPHERTEXT, INCORRECT_KEY -> INVALID_CIPHERTEXT;
      case INVALID_KEY_USAGE -> INVALID_KEY_USAGE;
      case UNSUPPORTED_OPERATION -> UNSUPPORTED_OPERATION;
      case ACCESS_DENIED -> ACCESS_DENIED;
      case LIMIT_EXCEEDED -> THROTTLING;
      case DEPENDENCY_TIMEOUT -> DEPENDENCY_TIMEOUT;
      default -> INTERNAL;
    };
  }
}
