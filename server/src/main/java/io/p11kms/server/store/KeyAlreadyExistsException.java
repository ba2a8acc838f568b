package io.p11kms.server.store;

/** {@link KeyStore#createKey} was given a key id or version id that is already stored. */
public final class KeyAlreadyExistsException extends KeyStoreException {
  private static final long serialVersionUID = 1L;

  public KeyAlreadyExistsException(Throwable cause) {
    super("a key or key version with this id already exists", cause);
  }
}
