package io.p11kms.server.store;

import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;

/**
 * Named leases in the key store's database (migration 5), so that of several servers on one
 * database one at a time runs each kind of scheduled work. A lease has an owner and an expiry:
 * taking it is one atomic statement that succeeds when the lease is free, expired, or already ours;
 * the holder renews it by taking it again before it expires; a server that dies simply stops
 * renewing, and the lease is free once it expires. Expiry is by the servers' clocks, so a lease
 * must last much longer than their skew; the work under a lease is idempotent anyway, and a lease
 * lost in a pause only costs duplicate effort, never a duplicate result.
 */
public final class Leases {
  private final JdbcKeyStore store;

  private Leases(JdbcKeyStore store) {
    this.store = store;
  }

  /** The leases beside {@code store}, which must be one {@link KeyStores} opened. */
  public static Leases of(KeyStore store) {
    if (!(store instanceof JdbcKeyStore jdbc)) {
      throw new IllegalArgumentException("leases need a JDBC key store");
    }
    return new Leases(jdbc);
  }

  /**
   * Takes or renews the lease {@code name} for {@code owner} until {@code now + duration}, if it is
   * free, expired at {@code now}, or held by {@code owner}.
   *
   * @return whether {@code owner} holds the lease now
   */
  public boolean tryAcquire(String name, String owner, Instant now, Duration duration) {
    KeyRecord.requireNonNull(name, "lease name");
    KeyRecord.requireNonNull(owner, "lease owner");
    long expires = JdbcKeyStore.toMicros(now.plus(duration));
    return store.inWriteTransaction(
        "cannot take the lease",
        c -> {
          // One statement: of two servers inserting at once, the second waits for the first and
          // then takes the conflict branch, whose WHERE sees the first one's row.
          try (PreparedStatement p =
              c.prepareStatement(
                  "INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?)"
                      + " ON CONFLICT (name) DO UPDATE"
                      + " SET owner = excluded.owner, expires_at = excluded.expires_at"
                      + " WHERE leases.owner = excluded.owner OR leases.expires_at <= ?")) {
            p.setString(1, name);
            p.setString(2, owner);
            p.setLong(3, expires);
            p.setLong(4, JdbcKeyStore.toMicros(now));
            return p.executeUpdate() == 1;
          }
        });
  }

  /** Gives the lease up if {@code owner} holds it, so that another server can take it at once. */
  public boolean release(String name, String owner) {
    return store.inWriteTransaction(
        "cannot release the lease",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement("DELETE FROM leases WHERE name = ? AND owner = ?")) {
            p.setString(1, name);
            p.setString(2, owner);
            return p.executeUpdate() == 1;
          }
        });
  }
}
