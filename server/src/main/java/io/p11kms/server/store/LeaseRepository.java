package io.p11kms.server.store;

import static io.p11kms.server.store.SqlValues.toMicros;

import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;

/** {@link Leases} in the {@code leases} table. */
final class LeaseRepository implements Leases {
  private final Transactions tx;

  LeaseRepository(Transactions tx) {
    this.tx = tx;
  }

  @Override
  public boolean tryAcquire(String name, String owner, Instant now, Duration duration) {
    KeyRecord.requireNonNull(name, "lease name");
    KeyRecord.requireNonNull(owner, "lease owner");
    long expires = toMicros(now.plus(duration));
    return tx.inWriteTransaction(
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
            p.setLong(4, toMicros(now));
            return p.executeUpdate() == 1;
          }
        });
  }

  @Override
  public boolean release(String name, String owner) {
    return tx.inWriteTransaction(
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
