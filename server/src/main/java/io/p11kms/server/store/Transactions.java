package io.p11kms.server.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The connections and transactions every repository of the store runs on: reads on pooled
 * connections without a lock, hot reads on statements kept per connection, and write transactions
 * that hold a process-wide lock only where the dialect asks for it (SQLite, which has one writer
 * anyway) and run again when the database aborted them for a concurrent one. A {@link SQLException}
 * becomes a {@link KeyStoreException} with the caller's message, never the SQL or the data.
 */
final class Transactions implements AutoCloseable {
  static final Duration BORROW_TIMEOUT = Duration.ofSeconds(30);

  /** How often a transaction that lost to a concurrent one (deadlock) runs again. */
  static final int MAX_RETRIES = 3;

  private final SqlDialect dialect;
  private final ConnectionPool pool;
  private final ReentrantLock writeLock = new ReentrantLock(true);
  private final Runnable afterWrite;

  /**
   * @param onClose told of each connection the pool closes
   * @param afterWrite run after every write transaction ends, committed or rolled back
   */
  Transactions(SqlDialect dialect, Consumer<Connection> onClose, Runnable afterWrite) {
    this.dialect = dialect;
    this.afterWrite = afterWrite;
    this.pool = new ConnectionPool(dialect, BORROW_TIMEOUT, onClose);
  }

  SqlDialect dialect() {
    return dialect;
  }

  /** Work on a borrowed connection. */
  @FunctionalInterface
  interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  /** Work on a kept statement. */
  @FunctionalInterface
  interface StatementWork<T> {
    T run(PreparedStatement p) throws SQLException;
  }

  /** As {@link StatementWork}, with the connection the statement belongs to. */
  @FunctionalInterface
  interface ConnectionStatementWork<T> {
    T run(Connection c, PreparedStatement p) throws SQLException;
  }

  <T> T read(String failure, Work<T> work) {
    Connection c = pool.borrow();
    try {
      return work.run(c);
    } catch (SQLException e) {
      dropIfLost(c, e);
      throw new KeyStoreException(failure, e);
    } finally {
      pool.release(c);
    }
  }

  /**
   * A read on a statement prepared once per pooled connection and kept: the hot reads of every
   * request, which would otherwise be parsed and planned anew each time. {@code work} sets every
   * parameter of the statement before it runs it; the values stay bound until the next use.
   * Clearing them would undo the keeping on SQLite: {@code sqlite3_clear_bindings} marks a
   * statement whose plan looked at a parameter's value as expired, so the next run prepares it
   * again (about 35 us of CPU per key read, three quarters of its cost).
   */
  <T> T query(String failure, String sql, StatementWork<T> work) {
    return query(failure, sql, (c, p) -> work.run(p));
  }

  <T> T query(String failure, String sql, ConnectionStatementWork<T> work) {
    Connection c = pool.borrow();
    try {
      return work.run(c, pool.prepared(c, sql));
    } catch (SQLException e) {
      pool.discard(c, sql);
      dropIfLost(c, e);
      throw new KeyStoreException(failure, e);
    } finally {
      pool.release(c);
    }
  }

  /**
   * The statement for {@code sql} kept on {@code c}, a connection borrowed by {@link #query}; a
   * caller whose statement fails calls {@link #discard}.
   */
  PreparedStatement kept(Connection c, String sql) throws SQLException {
    return pool.prepared(c, sql);
  }

  void discard(Connection c, String sql) {
    pool.discard(c, sql);
  }

  /**
   * Runs {@code work} in one transaction, again (at most {@value #MAX_RETRIES} times in all) when
   * the database aborted it for a concurrent one.
   *
   * @throws KeyAlreadyExistsException on a unique or primary-key violation
   */
  <T> T inWriteTransaction(String failure, Work<T> work) {
    for (int attempt = 1; ; attempt++) {
      try {
        return inWriteTransactionOnce(failure, work);
      } catch (RetryableException e) {
        if (attempt >= MAX_RETRIES) {
          throw new KeyStoreException(failure, e.getCause());
        }
      }
    }
  }

  /** A transaction the database rolled back only because of a concurrent one. */
  private static final class RetryableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    RetryableException(SQLException cause) {
      super(cause);
    }
  }

  private <T> T inWriteTransactionOnce(String failure, Work<T> work) {
    boolean locked = dialect.serializeWrites();
    if (locked) {
      writeLock.lock();
    }
    try {
      Connection c = pool.borrow();
      try {
        c.setAutoCommit(false);
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException e) {
        rollbackQuietly(c);
        dropIfLost(c, e);
        if (dialect.isUniqueViolation(e)) {
          throw new KeyAlreadyExistsException(e);
        }
        if (dialect.isRetryable(e)) {
          throw new RetryableException(e);
        }
        throw new KeyStoreException(failure, e);
      } catch (RuntimeException e) {
        rollbackQuietly(c);
        throw e;
      } finally {
        pool.release(c);
        afterWrite.run();
      }
    } finally {
      if (locked) {
        writeLock.unlock();
      }
    }
  }

  /**
   * Closes a connection the database ended (SQLState class 08, or 57P: the server shut down or
   * restarted), so that the pool drops it instead of handing it to the next call.
   */
  private static void dropIfLost(Connection c, SQLException e) {
    String state = e.getSQLState();
    if (state != null && (state.startsWith("08") || state.startsWith("57P"))) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // Closed enough: the pool checks isClosed().
      }
    }
  }

  private static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException ignored) {
      // The pool closes a connection it cannot reset.
    }
  }

  /** Closes the connections. Calls after close throw {@link KeyStoreException}. */
  @Override
  public void close() {
    pool.close();
  }
}
