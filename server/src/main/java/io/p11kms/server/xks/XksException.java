package io.p11kms.server.xks;

/** A request the XKS front end refuses itself (before or beside the service), by its XKS error. */
final class XksException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final XksError error;

  XksException(XksError error, String message) {
    super(message, null, false, false);
    this.error = error;
  }

  XksError error() {
    return error;
  }
}
