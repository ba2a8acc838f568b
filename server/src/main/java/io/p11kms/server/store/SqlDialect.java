package io.p11kms.server.store;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * The few things that differ between databases; all other SQL in this package is standard. A
 * PostgreSQL store adds a second implementation: {@code BIGINT GENERATED ALWAYS AS IDENTITY} for
 * the sequence, {@code BYTEA} for bytes, SQLState 23505 for unique violations, concurrent writes
 * (no write lock) and an advisory lock around migrations.
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

  /** How many connections to keep at most. */
  int maxConnections();

  /**
   * Whether writes must be serialized inside this process: SQLite allows one writer, and a write
   * transaction that has to wait turns into a busy error instead of a queue.
   */
  boolean serializeWrites();

  /** Whether the exception is a unique or primary-key violation. */
  boolean isUniqueViolation(SQLException e);
}
