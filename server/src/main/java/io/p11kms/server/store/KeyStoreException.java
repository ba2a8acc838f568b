package io.p11kms.server.store;

/**
 * The key store failed: the database is unreachable, a constraint was violated, the schema is newer
 * than this server. Messages never carry stored data; the service maps this to an internal error.
 */
public class KeyStoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public KeyStoreException(String message) {
    super(message);
  }

  public KeyStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
