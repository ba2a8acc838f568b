package io.p11kms.server.store;

/** Opens a key store by JDBC URL. */
public final class KeyStores {
  private KeyStores() {}

  /**
   * Opens the database, creating its folder (SQLite), schema and tables as needed and applying any
   * missing migrations. Supported: {@code jdbc:sqlite:<file>} and {@code
   * jdbc:postgresql://<host>[:<port>]/<database>}.
   *
   * @throws KeyStoreException if the database cannot be opened or its schema is newer than this
   *     server
   * @throws IllegalArgumentException if the URL names an unsupported database
   */
  public static KeyStore open(String jdbcUrl) {
    if (jdbcUrl == null) {
      throw new IllegalArgumentException("a JDBC URL is required");
    }
    return open(StoreSettings.of(jdbcUrl));
  }

  /** As {@link #open(String)}, with a user and a password source for PostgreSQL. */
  public static KeyStore open(StoreSettings settings) {
    String jdbcUrl = settings.jdbcUrl();
    SqlDialect dialect;
    if (jdbcUrl.startsWith(SqliteDialect.PREFIX)) {
      dialect = new SqliteDialect(jdbcUrl);
    } else if (jdbcUrl.startsWith(PostgresDialect.PREFIX)) {
      dialect = new PostgresDialect(settings);
    } else {
      // Not the URL itself: it may carry a password.
      throw new IllegalArgumentException(
          "unsupported database; supported: jdbc:sqlite:<file>,"
              + " jdbc:postgresql://<host>[:<port>]/<database>");
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
