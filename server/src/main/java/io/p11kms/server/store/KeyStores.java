package io.p11kms.server.store;

import org.sqlite.SQLiteJDBCLoader;

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
    return open(settings, DEFAULT_KEY_READ_CACHE_SIZE);
  }

  /**
   * Starts loading, in the background, what opening a store at {@code jdbcUrl} needs and is slow to
   * load: SQLite's native library, which its driver unpacks from its jar on every start (as long as
   * opening the token takes). Nothing is opened or created; {@link #open} then finds the library
   * loaded, or loads it itself and reports any failure.
   */
  public static void preload(String jdbcUrl) {
    if (jdbcUrl == null || !jdbcUrl.startsWith(SqliteDialect.PREFIX)) {
      return;
    }
    Thread loader =
        new Thread(
            () -> {
              try {
                SQLiteJDBCLoader.initialize();
              } catch (Exception | LinkageError e) {
                // open loads it again and says why it cannot.
              }
            },
            "p11kms-store-preload");
    loader.setDaemon(true);
    loader.start();
  }

  /** Key reads a store keeps by default (on SQLite; {@link #open(StoreSettings, int)}). */
  public static final int DEFAULT_KEY_READ_CACHE_SIZE = KeyInUseCache.DEFAULT_MAX_ENTRIES;

  /** The most key reads a store may be told to keep. */
  public static final int MAX_KEY_READ_CACHE_SIZE = 10_000_000;

  /**
   * As {@link #open(StoreSettings)}, keeping up to {@code keyReadCacheSize} key reads (0 none)
   * where the database tells cheaply whether it changed (SQLite): see {@code KeyInUseCache}.
   */
  public static KeyStore open(StoreSettings settings, int keyReadCacheSize) {
    if (keyReadCacheSize < 0 || keyReadCacheSize > MAX_KEY_READ_CACHE_SIZE) {
      throw new IllegalArgumentException(
          "key read cache size must be 0-" + MAX_KEY_READ_CACHE_SIZE + ", was " + keyReadCacheSize);
    }
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
    JdbcKeyStore store = new JdbcKeyStore(dialect, keyReadCacheSize);
    try {
      store.migrate();
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
    return store;
  }
}
