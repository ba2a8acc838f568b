package io.p11kms.server.store;

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
public interface Leases {

  /** The leases in {@code store}'s database. */
  static Leases of(KeyStore store) {
    return store.leases();
  }

  /**
   * Takes or renews the lease {@code name} for {@code owner} until {@code now + duration}, if it is
   * free, expired at {@code now}, or held by {@code owner}.
   *
   * @return whether {@code owner} holds the lease now
   */
  boolean tryAcquire(String name, String owner, Instant now, Duration duration);

  /** Gives the lease up if {@code owner} holds it, so that another server can take it at once. */
  boolean release(String name, String owner);
}
