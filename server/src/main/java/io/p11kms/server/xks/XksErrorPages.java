package io.p11kms.server.xks;

/**
 * The XKS proxy API's error for a request the listener refuses before {@link XksHandler} reads it
 * (a path with an encoded '/', a malformed request, headers too large), by HTTP status: the same
 * one-line JSON error as every other, never an HTML page.
 */
final class XksErrorPages {
  private XksErrorPages() {}

  static XksError errorOf(int status) {
    return switch (status) {
      case 404 -> XksError.INVALID_URI_PATH;
      case 405 -> XksError.METHOD_NOT_ALLOWED;
      case 429 -> XksError.THROTTLING;
      case 503 -> XksError.DEPENDENCY_TIMEOUT;
      default -> status >= 400 && status < 500 ? XksError.VALIDATION : XksError.INTERNAL;
    };
  }
}
