package io.p11kms.server;

import io.p11kms.hsm.Hsm;
import io.p11kms.server.metrics.Metrics;
import io.p11kms.server.service.DeletionTask;
import io.p11kms.server.service.DomainKeyRewrap;
import io.p11kms.server.service.ImportExpiry;
import io.p11kms.server.service.KeyRotationService;
import io.p11kms.server.service.LeasedRunner;
import io.p11kms.server.service.MultiRegionService;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.Leases;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's background work: due key deletions, due rotations, the domain-key re-wrap, the
 * expiry of imported key material and telling peer regions of multi-Region keys' changes, each
 * under a lease in the store (servers sharing a database take turns), and the sweep of this
 * server's token for expired import wrapping keys. Each method that runs a job now is what the
 * schedule does; tests call them directly.
 */
public final class ScheduledWork implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ScheduledWork.class);

  /** How often due deletions, rotations and imported material expiries are looked for. */
  static final Duration DUE_WORK_PERIOD = Duration.ofMinutes(1);

  /**
   * How often the server looks for a newer domain key generation on the token (made by {@code
   * p11kms rotate-domain-key}) and re-wraps the EKTs still under older ones.
   */
  static final Duration REWRAP_PERIOD = Duration.ofHours(1);

  /** How often each server destroys the import wrapping keys on its token past their 24 hours. */
  static final Duration IMPORT_SWEEP_PERIOD = Duration.ofMinutes(10);

  private final DeletionTask deletions;
  private final ImportExpiry imports;
  private final KeyRotationService rotations;
  private final MultiRegionService multiRegion;
  private final DomainKeyRewrap rewrap;
  private final LeasedRunner leader;
  private final ScheduledExecutorService scheduler =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "p11kms-key-deletion");
            t.setDaemon(true);
            return t;
          });
  private Duration dueWorkPeriod = DUE_WORK_PERIOD;

  ScheduledWork(
      Hsm hsm,
      KeyStore store,
      KeyRotationService rotations,
      MultiRegionService multiRegion,
      Clock clock) {
    this.deletions = new DeletionTask(store, clock, multiRegion);
    this.multiRegion = multiRegion;
    this.imports = new ImportExpiry(hsm, store, clock);
    this.rotations = rotations;
    this.rewrap = new DomainKeyRewrap(hsm, store, clock);
    this.leader =
        new LeasedRunner(
            Leases.of(store), LeasedRunner.newOwnerId(), clock, LeasedRunner.DEFAULT_LEASE);
  }

  /**
   * Looks for due key deletions, rotations and expiries of imported key material every {@code
   * period} instead of every minute; takes effect at {@link #start()}.
   */
  void checkDueWorkEvery(Duration period) {
    this.dueWorkPeriod = period;
  }

  /** Exposes the rotation counters (key versions made, EKTs re-wrapped) in {@code metrics}. */
  void countRotationsIn(Metrics metrics) {
    metrics.countRotations(rotations, rewrap);
  }

  /** Schedules every job. */
  void start() {
    scheduleLeased("key-deletion", deletions::runDueDeletions, dueWorkPeriod);
    scheduleLeased("key-rotation", rotations::runDueRotations, dueWorkPeriod);
    scheduleLeased("domain-key-rewrap", rewrap::run, REWRAP_PERIOD);
    scheduleLeased("imported-material-expiry", imports::runDueExpiries, dueWorkPeriod);
    scheduleLeased("region-announcements", multiRegion::tellPendingRegions, dueWorkPeriod);
    // Each server's own token: not under the lease.
    schedule(
        "destroying expired import wrapping keys",
        imports::destroyExpiredWrappingKeys,
        IMPORT_SWEEP_PERIOD);
  }

  private void scheduleLeased(String name, Runnable work, Duration period) {
    schedule("scheduled " + name, () -> leader.runIfHolder(name, work), period);
  }

  private void schedule(String what, Runnable work, Duration period) {
    scheduler.scheduleWithFixedDelay(
        () -> {
          try {
            work.run();
          } catch (RuntimeException e) {
            // A failed run must not end the schedule: the next run tries again.
            log.error("{} failed: {}", what, e.getMessage());
          }
        },
        period.toMillis(),
        period.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /**
   * Creates a new domain key generation every {@code settings.interval()} (in a child JVM, as the
   * SO) and re-wraps the EKTs to it; off, with a log line saying so, when no SO PIN file is
   * configured.
   */
  void scheduleDomainKeyRotation(Path configFile, DomainKeyRotationSchedule.Settings settings) {
    if (settings.soPinFile().isEmpty()) {
      log.info(
          "domain key rotation by the server: off ({} not set); rotate with p11kms"
              + " rotate-domain-key",
          DomainKeyRotationSchedule.SO_PIN_FILE);
      return;
    }
    DomainKeyRotationSchedule schedule =
        new DomainKeyRotationSchedule(configFile, settings.soPinFile().get(), rewrap::run);
    schedule("scheduled domain key rotation", schedule::rotate, settings.interval());
    log.info("domain key rotation by the server: every {} h", settings.interval().toHours());
  }

  /**
   * Tells, now, the peer regions that have not confirmed it yet a multi-Region key's primary and
   * replicas as this region knows them; how many confirmed.
   */
  public int runRegionAnnouncements() {
    return multiRegion.tellPendingRegions();
  }

  /** Deletes, now, the keys whose deletion window has passed; how many were deleted. */
  public int runDueDeletions() {
    return deletions.runDueDeletions();
  }

  /** Rotates, now, the keys whose automatic rotation is due; how many were rotated. */
  public int runDueRotations() {
    return rotations.runDueRotations();
  }

  /** Deletes the imported key material whose ValidTo has come, now; how many keys lost theirs. */
  public int runDueImportExpiries() {
    return imports.runDueExpiries();
  }

  /** Destroys the import wrapping keys on the token past their 24 hours, now; how many. */
  public int destroyExpiredImportWrappingKeys() {
    return imports.destroyExpiredWrappingKeys();
  }

  /** Re-wraps, now, every EKT under an older domain key generation to the newest on the token. */
  public DomainKeyRewrap.Result rewrapDomainKeys() {
    return rewrap.run();
  }

  /** Stops the schedule; a job in flight finishes its transaction first (up to 5 seconds). */
  @Override
  public void close() {
    scheduler.shutdownNow();
    try {
      scheduler.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    leader.close();
  }
}
