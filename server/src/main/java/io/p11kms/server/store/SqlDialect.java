package io.p11kms.server.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;

/**
 * The few things that differ between databases; all other SQL in this package is standard (and
 * {@code INSERT ... ON CONFLICT}, which both have).
 */
interface SqlDialect {

  /** Column definition of an ever-increasing, never reused primary key. */
  String sequencePrimaryKey();

  /** Column type of a variable-length byte string. */
  String bytesType();

  /** A row-limit clause taking one parameter, appended after ORDER BY. */
  String limitParameter();

  /** Opens one connection, configured. */
  Connection connect() throws SQLException;

  /**
   * A query of one row and one number that changes whenever another connection commits, cheap
   * enough to run before every key read ({@link KeyInUseCache}); empty where there is none.
   */
  Optional<String> changeCounterQuery();

  /** How many connections to keep at most. */
  int maxConnections();

  /**
   * Whether writes must be serialized inside this process: SQLite allows one writer, and a write
   * transaction that has to wait turns into a busy error instead of a queue.
   */
  boolean serializeWrites();

  /** Whether the exception is a unique or primary-key violation. */
  boolean isUniqueViolation(SQLException e);

  /**
   * Whether the transaction failed only because of a concurrent one (deadlock, serialization
   * failure) and may simply run again.
   */
  boolean isRetryable(SQLException e);

  /**
   * Called first in the migration transaction: makes servers that start together on one database
   * migrate one after the other.
   */
  void lockForMigration(Connection c) throws SQLException;
}
