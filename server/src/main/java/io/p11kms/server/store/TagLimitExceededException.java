package io.p11kms.server.store;

/** {@link KeyStore#tagKey} would leave a key with more tags than allowed; nothing was written. */
public final class TagLimitExceededException extends KeyStoreException {
  private static final long serialVersionUID = 1L;

  public TagLimitExceededException(int limit) {
    super("a key can have at most " + limit + " tags", null);
  }
}
