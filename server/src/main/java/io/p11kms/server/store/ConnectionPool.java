package io.p11kms.server.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A bounded set of connections, opened on demand and reused. A connection is returned in a clean
 * state (auto-commit on, nothing pending) or closed and forgotten; a connection the database closed
 * (PostgreSQL restarted) fails one call and is then dropped.
 */
final class ConnectionPool implements AutoCloseable {
  private final SqlDialect dialect;
  private final Semaphore permits;
  private final BlockingQueue<Connection> idle;
  private final Duration borrowTimeout;
  private volatile boolean closed;

  /**
   * Statements kept per connection (see {@link Transactions#query}), closed with it. Only the
   * thread that borrowed a connection touches its map.
   */
  private final Map<Connection, Map<String, PreparedStatement>> statements =
      new ConcurrentHashMap<>();

  /** Told of each connection the pool closes. */
  private final Consumer<Connection> onClose;

  ConnectionPool(SqlDialect dialect, Duration borrowTimeout, Consumer<Connection> onClose) {
    this.dialect = dialect;
    this.onClose = onClose;
    // Non-fair for the same reason as the token's SessionPool: no forced hand-off per release;
    // the borrow timeout bounds every wait.
    this.permits = new Semaphore(dialect.maxConnections());
    this.idle = new ArrayBlockingQueue<>(dialect.maxConnections());
    this.borrowTimeout = borrowTimeout;
  }

  Connection borrow() {
    ensureOpen();
    try {
      if (!permits.tryAcquire(borrowTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new KeyStoreException("timed out waiting for a database connection");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KeyStoreException("interrupted while waiting for a database connection", e);
    }
    try {
      ensureOpen();
      Connection c = idle.poll();
      return c != null ? c : dialect.connect();
    } catch (SQLException | RuntimeException e) {
      permits.release();
      if (e instanceof KeyStoreException k) {
        throw k;
      }
      throw new KeyStoreException("cannot open a database connection", e);
    }
  }

  void release(Connection c) {
    try {
      boolean reusable = !closed && !c.isClosed();
      if (reusable && !c.getAutoCommit()) {
        c.rollback();
        c.setAutoCommit(true);
      }
      if (!reusable || !idle.offer(c)) {
        closeQuietly(c);
      }
    } catch (SQLException e) {
      closeQuietly(c);
    } finally {
      permits.release();
    }
    if (closed) {
      drain();
    }
  }

  /** The statement for {@code sql} on {@code c}, a borrowed connection; prepared on first use. */
  PreparedStatement prepared(Connection c, String sql) throws SQLException {
    Map<String, PreparedStatement> mine = statements.computeIfAbsent(c, k -> new HashMap<>());
    PreparedStatement p = mine.get(sql);
    if (p == null || p.isClosed()) {
      p = c.prepareStatement(sql);
      mine.put(sql, p);
    }
    return p;
  }

  /** Closes and forgets the statement for {@code sql} on {@code c}, after it failed. */
  void discard(Connection c, String sql) {
    Map<String, PreparedStatement> mine = statements.get(c);
    PreparedStatement p = mine == null ? null : mine.remove(sql);
    if (p != null) {
      try {
        p.close();
      } catch (SQLException ignored) {
        // The connection is reset or closed on release.
      }
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new KeyStoreException("key store is closed");
    }
  }

  @Override
  public void close() {
    closed = true;
    drain();
  }

  private void drain() {
    Connection c;
    while ((c = idle.poll()) != null) {
      closeQuietly(c);
    }
  }

  private void closeQuietly(Connection c) {
    onClose.accept(c);
    Map<String, PreparedStatement> mine = statements.remove(c);
    try {
      if (mine != null) {
        for (PreparedStatement p : mine.values()) {
          p.close();
        }
      }
    } catch (SQLException ignored) {
      // Closing the connection closes its statements too.
    }
    try {
      c.close();
    } catch (SQLException ignored) {
      // Nothing more to do with a connection that will not close.
    }
  }
}
