package io.p11kms.server.cli;

/** A local error of the client (bad input, unreadable file): exit code 1, message on stderr. */
final class CliException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  CliException(String message) {
    super(message);
  }
}
