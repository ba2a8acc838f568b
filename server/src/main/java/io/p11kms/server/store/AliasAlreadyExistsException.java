package io.p11kms.server.store;

/** {@link KeyStore#createAlias} was given a name that is already taken. */
public final class AliasAlreadyExistsException extends KeyStoreException {
  private static final long serialVersionUID = 1L;

  public AliasAlreadyExistsException(Throwable cause) {
    super("an alias with this name already exists", cause);
  }
}
