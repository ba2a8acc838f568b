package io.p11kms.server.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Optional;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

/**
 * SQLite: one file, write-ahead log (readers do not wait for the writer), synchronous writes (a
 * committed key survives a power cut), foreign keys enforced, secure delete (a deleted key's EKT is
 * overwritten in the file, not left in a free page), and a busy timeout for a second process on the
 * same file.
 */
final class SqliteDialect implements SqlDialect {
  static final String PREFIX = "jdbc:sqlite:";
  static final int BUSY_TIMEOUT_MS = 10_000;
  static final int POOL_SIZE = 4;

  private final String url;
  private final boolean inMemory;

  SqliteDialect(String url) {
    if (!url.startsWith(PREFIX)) {
      throw new IllegalArgumentException("not a SQLite JDBC URL");
    }
    this.url = url;
    Path file = databaseFile(url);
    this.inMemory = file == null;
    if (file != null && file.toAbsolutePath().getParent() != null) {
      try {
        Files.createDirectories(file.toAbsolutePath().getParent());
      } catch (IOException e) {
        throw new KeyStoreException(
            "cannot create the key store's folder: " + e.getClass().getSimpleName(), e);
      }
    }
  }

  /** The database file named by a SQLite JDBC URL, or null for an in-memory database. */
  static Path databaseFile(String url) {
    String rest = url.substring(PREFIX.length());
    int query = rest.indexOf('?');
    String params = query >= 0 ? rest.substring(query + 1) : "";
    String path = query >= 0 ? rest.substring(0, query) : rest;
    if (path.startsWith("file:")) {
      path = path.substring("file:".length());
    }
    if (path.isEmpty() || path.equals(":memory:") || params.contains("mode=memory")) {
      return null;
    }
    return Path.of(path);
  }

  @Override
  public String sequencePrimaryKey() {
    return "INTEGER PRIMARY KEY AUTOINCREMENT";
  }

  @Override
  public String bytesType() {
    return "BLOB";
  }

  @Override
  public String limitParameter() {
    return "LIMIT ?";
  }

  @Override
  public Connection connect() throws SQLException {
    SQLiteConfig config = new SQLiteConfig();
    if (!inMemory) {
      config.setJournalMode(SQLiteConfig.JournalMode.WAL);
    }
    config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
    config.enforceForeignKeys(true);
    config.setPragma(SQLiteConfig.Pragma.SECURE_DELETE, "true");
    config.setBusyTimeout(BUSY_TIMEOUT_MS);
    // A write transaction takes the write lock when it begins, waiting on the busy timeout, so
    // that a second process on the file queues instead of failing on a stale snapshot.
    config.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
    return DriverManager.getConnection(url, config.toProperties());
  }

  @Override
  public Optional<String> changeCounterQuery() {
    // Moves when another connection commits, not for this connection's own commits.
    return Optional.of("PRAGMA data_version");
  }

  @Override
  public int maxConnections() {
    // Each in-memory connection would be a database of its own.
    return inMemory ? 1 : POOL_SIZE;
  }

  @Override
  public boolean serializeWrites() {
    return true;
  }

  @Override
  public boolean isUniqueViolation(SQLException e) {
    if (e instanceof SQLiteException s) {
      SQLiteErrorCode code = s.getResultCode();
      return code == SQLiteErrorCode.SQLITE_CONSTRAINT_UNIQUE
          || code == SQLiteErrorCode.SQLITE_CONSTRAINT_PRIMARYKEY;
    }
    return "23505".equals(e.getSQLState());
  }

  @Override
  public boolean isRetryable(SQLException e) {
    // Writers queue on the busy timeout instead.
    return false;
  }

  @Override
  public void lockForMigration(Connection c) {
    // The first write of the migration takes the database's only write lock.
  }
}
