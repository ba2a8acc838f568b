package io.p11kms.server.store;

/** Opens a key store by JDBC URL. */
public final class KeyStores {
  private KeyStores() {}

  /**
   * Opens the database, creating its folder, schema and tables as needed and applying any missing
   * migrations. Supported: {@code jdbc:sqlite:<file>}.
   *
   * @throws KeyStoreException if the database cannot be opened or its schema is newer than this
   *     server
   * @throws IllegalArgumentException if the URL names an unsupported database
   */
  public static KeyStore open(String jdbcUrl) {
    if (jdbcUrl == null) {
      throw new IllegalArgumentException("a JDBC URL is required");
    }
    SqlDialect dialect;
    if (jdbcUrl.startsWith(SqliteDialect.PREFIX)) {
      dialect = new SqliteDialect(jdbcUrl);
    } else {
      // Not the URL itself: it may carry a password.
      throw new IllegalArgumentException("unsupported database; supported: jdbc:sqlite:<file>");
    }
    JdbcKeyStore store = new JdbcKeyStore(dialect);
    try {
      store.migrate();
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
    return store;
  }
}
