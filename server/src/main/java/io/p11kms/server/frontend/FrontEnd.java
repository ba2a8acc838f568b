package io.p11kms.server.frontend;

/**
 * A running front end: a listener that turns its wire format into calls of the service core
 * (through {@code access.AccessControl}) and back. Each front end starts itself through its own
 * factory; the server holds the running ones and closes them ({@link FrontEnds}).
 */
public interface FrontEnd extends AutoCloseable {
  /** The port it listens on (the one chosen when configured with port 0). */
  int port();

  /**
   * Stops taking requests, lets the running ones finish for a few seconds, releases its threads.
   */
  @Override
  void close();
}
