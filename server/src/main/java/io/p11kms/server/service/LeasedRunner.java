package io.p11kms.server.service;

import io.p11kms.server.store.Leases;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each kind of scheduled work (due rotations, due deletions, domain-key re-wrap) on one server
 * at a time among those that share a database, under a {@link Leases lease}: the server holding it
 * runs the work and renews the lease while it works and at every pass; the others skip their pass.
 * A server that dies stops renewing, and another takes the lease over once it expires. A stopping
 * server gives its leases up at once.
 *
 * <p>The lease saves token calls and log noise; correctness does not rest on it: each unit of work
 * is a compare-and-set in the store (a rotation only if still due, a deletion only if still pending
 * and due, a re-wrap only if the row is still under the old generation).
 */
public final class LeasedRunner implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LeasedRunner.class);

  /** How long a lease lasts without renewal: how long work pauses after its server dies. */
  public static final Duration DEFAULT_LEASE = Duration.ofMinutes(5);

  private final Leases leases;
  private final String owner;
  private final Clock clock;
  private final Duration lease;
  private final ScheduledExecutorService renewer;
  private final Set<String> held = ConcurrentHashMap.newKeySet();

  public LeasedRunner(Leases leases, String owner, Clock clock, Duration lease) {
    if (lease.toMillis() < 3) {
      throw new IllegalArgumentException("a lease must last at least 3 ms");
    }
    this.leases = leases;
    this.owner = owner;
    this.clock = clock;
    this.lease = lease;
    this.renewer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "p11kms-lease-renewal");
              t.setDaemon(true);
              return t;
            });
  }

  /** An owner name unique to this process: host, process id and a random part. */
  public static String newOwnerId() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      host = "unknown-host";
    }
    return host + "/" + ProcessHandle.current().pid() + "/" + UUID.randomUUID();
  }

  /** This runner's owner name, as stored in the leases it holds. */
  public String owner() {
    return owner;
  }

  /**
   * Runs {@code work} if this server holds, or can take, the lease {@code name}; renews the lease
   * every third of its duration while the work runs.
   *
   * @return whether the work ran here
   */
  public boolean runIfHolder(String name, Runnable work) {
    if (!leases.tryAcquire(name, owner, clock.instant(), lease)) {
      held.remove(name);
      return false;
    }
    held.add(name);
    long every = lease.toMillis() / 3;
    ScheduledFuture<?> renewal =
        renewer.scheduleAtFixedRate(() -> renew(name), every, every, TimeUnit.MILLISECONDS);
    try {
      work.run();
      return true;
    } finally {
      renewal.cancel(false);
    }
  }

  private void renew(String name) {
    try {
      if (!leases.tryAcquire(name, owner, clock.instant(), lease)) {
        // Another server took it after we paused past the expiry; the work stays correct (each
        // unit is a compare-and-set), it may only be done twice over.
        log.warn("lease {} lost while working", name);
      }
    } catch (RuntimeException e) {
      log.warn("cannot renew lease {}: {}", name, e.getMessage());
    }
  }

  /** Stops renewing and gives up the leases held, so that another server takes over at once. */
  @Override
  public void close() {
    renewer.shutdownNow();
    for (String name : held) {
      try {
        leases.release(name, owner);
      } catch (RuntimeException e) {
        // The lease expires by itself.
      }
    }
    held.clear();
  }
}
