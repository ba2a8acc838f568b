package io.p11kms.server.store;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Optional;
import java.util.Properties;

/**
 * PostgreSQL, the store for several servers on one database: concurrent writers (no lock in the
 * process; a transaction that changes a key first takes its row lock), read-committed isolation,
 * and a transaction-scoped advisory lock around migrations so that servers starting together
 * migrate one after the other.
 */
final class PostgresDialect implements SqlDialect {
  static final String PREFIX = "jdbc:postgresql:";
  static final int POOL_SIZE = 16;

  /** The advisory lock id of migrations: "p11kms" in ASCII, any constant would do. */
  static final long MIGRATION_LOCK = 0x7031316b6d73L;

  private static final int CONNECT_TIMEOUT_SECONDS = 10;

  private final StoreSettings settings;

  PostgresDialect(StoreSettings settings) {
    if (!settings.jdbcUrl().startsWith(PREFIX)) {
      throw new IllegalArgumentException("not a PostgreSQL JDBC URL");
    }
    this.settings = settings;
  }

  @Override
  public String sequencePrimaryKey() {
    return "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY";
  }

  @Override
  public String bytesType() {
    return "BYTEA";
  }

  @Override
  public String limitParameter() {
    return "LIMIT ?";
  }

  @Override
  public Connection connect() throws SQLException {
    Properties p = new Properties();
    if (settings.user() != null) {
      p.setProperty("user", settings.user());
    }
    p.setProperty("connectTimeout", Integer.toString(CONNECT_TIMEOUT_SECONDS));
    p.setProperty("ApplicationName", "p11kms");
    char[] password = settings.hasPassword() ? settings.readPassword() : null;
    try {
      if (password != null) {
        // The driver takes a String; it lives as long as the connection attempt.
        p.setProperty("password", new String(password));
      }
      return DriverManager.getConnection(settings.jdbcUrl(), p);
    } finally {
      if (password != null) {
        Arrays.fill(password, '\0');
      }
      p.remove("password");
    }
  }

  @Override
  public Optional<String> changeCounterQuery() {
    // No per-connection counter of other sessions' commits that costs less than the read.
    return Optional.empty();
  }

  @Override
  public int maxConnections() {
    return POOL_SIZE;
  }

  @Override
  public boolean serializeWrites() {
    return false;
  }

  @Override
  public boolean isUniqueViolation(SQLException e) {
    return "23505".equals(e.getSQLState());
  }

  @Override
  public boolean isRetryable(SQLException e) {
    // serialization_failure, deadlock_detected.
    return "40001".equals(e.getSQLState()) || "40P01".equals(e.getSQLState());
  }

  @Override
  public void lockForMigration(Connection c) throws SQLException {
    try (PreparedStatement p = c.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
      p.setLong(1, MIGRATION_LOCK);
      p.executeQuery().close();
    }
  }
}
