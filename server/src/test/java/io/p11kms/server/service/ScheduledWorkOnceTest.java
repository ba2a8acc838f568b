package io.p11kms.server.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.Hsm;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyStores;
import io.p11kms.server.store.Leases;
import io.p11kms.server.testing.PostgresTestServer;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Scheduled work runs once, not once per server: two "servers" (two store instances, two lease
 * runners, two sets of services, one SoftHSM2 token whose backing-key generations are counted) on
 * one real PostgreSQL, racing on the same due rotation and due deletion. The clock is the test's.
 */
class ScheduledWorkOnceTest {
  private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
  private static final Duration LEASE = Duration.ofMinutes(5);
  private static final KeyArns ARNS = new KeyArns("aws", "local-1", "111122223333");

  private static SoftHsmTestToken token;
  private static Pkcs11Hsm realHsm;
  private static PostgresTestServer pg;

  private final AtomicReference<Instant> now = new AtomicReference<>(T0);
  private final AtomicInteger backingKeys = new AtomicInteger();
  private final List<AutoCloseable> opened = new ArrayList<>();
  private final ExecutorService threads = Executors.newFixedThreadPool(2);
  private Server a;
  private Server b;

  /** One server's scheduled work over its own store (connection pool) and lease runner. */
  private record Server(
      KeyStore store,
      KeyService keys,
      KeyRotationService rotations,
      KeyLifecycleService lifecycle,
      DeletionTask deletions,
      LeasedRunner runner) {}

  @BeforeAll
  static void startTokenAndDatabase() {
    token = SoftHsmTestToken.create();
    realHsm = Pkcs11Hsm.open(token.hsmConfig());
    pg = PostgresTestServer.start();
  }

  @AfterAll
  static void stop() {
    if (realHsm != null) {
      realHsm.close();
    }
    if (token != null) {
      token.close();
    }
    if (pg != null) {
      pg.close();
    }
  }

  @BeforeEach
  void twoServers() {
    String url = pg.superuserUrl(pg.createDatabase());
    a = server(url, "server-a");
    b = server(url, "server-b");
  }

  @AfterEach
  void close() throws Exception {
    threads.shutdownNow();
    for (AutoCloseable c : opened) {
      c.close();
    }
  }

  private Server server(String url, String owner) {
    Clock clock =
        new Clock() {
          @Override
          public Instant instant() {
            return now.get();
          }

          @Override
          public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
          }

          @Override
          public Clock withZone(java.time.ZoneId zone) {
            return this;
          }
        };
    KeyStore store = KeyStores.open(url);
    Hsm hsm = countingBackingKeys(realHsm);
    KeyService keys = new KeyService(hsm, store, ARNS, clock);
    LeasedRunner runner = new LeasedRunner(Leases.of(store), owner, clock, LEASE);
    opened.add(runner);
    opened.add(store);
    return new Server(
        store,
        keys,
        new KeyRotationService(hsm, store, keys, clock),
        new KeyLifecycleService(store, keys, clock),
        new DeletionTask(store, clock),
        runner);
  }

  /** The real token, with its backing-key generations (one per rotation attempt) counted. */
  private Hsm countingBackingKeys(Hsm hsm) {
    return (Hsm)
        Proxy.newProxyInstance(
            Hsm.class.getClassLoader(),
            new Class<?>[] {Hsm.class},
            (proxy, method, args) -> {
              if (method.getName().equals("generateBackingKey")) {
                backingKeys.incrementAndGet();
              }
              try {
                return method.invoke(hsm, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  /** Runs both at once; their results, A's first. */
  private <T> List<T> bothAtOnce(Callable<T> onA, Callable<T> onB) throws Exception {
    CyclicBarrier start = new CyclicBarrier(2);
    Future<T> fa =
        threads.submit(
            () -> {
              start.await();
              return onA.call();
            });
    Future<T> fb =
        threads.submit(
            () -> {
              start.await();
              return onB.call();
            });
    return List.of(fa.get(), fb.get());
  }

  private UUID keyDueForRotation() {
    UUID id = a.keys().createKey(CreateKeyRequest.of("rotates")).keyId();
    a.rotations().enableKeyRotation(id.toString(), 90);
    return id;
  }

  private int rotationRows(UUID id) {
    return b.rotations().listKeyRotations(id.toString(), 1000, null).rotations().size();
  }

  @Test
  void dueRotation_twoServersUnderTheLease_rotatedOnceWithOneTokenCall() throws Exception {
    UUID id = keyDueForRotation();
    now.set(T0.plus(Duration.ofDays(91)));
    backingKeys.set(0);

    List<Boolean> ran =
        bothAtOnce(
            () -> a.runner().runIfHolder("key-rotation", a.rotations()::runDueRotations),
            () -> b.runner().runIfHolder("key-rotation", b.rotations()::runDueRotations));

    assertThat(ran).containsExactlyInAnyOrder(true, false);
    assertThat(rotationRows(id)).isEqualTo(1);
    assertThat(backingKeys.get()).isEqualTo(1);
    assertThat(a.store().findLatestVersion(id).orElseThrow().versionNumber()).isEqualTo(2);

    // A minute later the holder runs again and finds nothing due; the other still skips.
    now.set(now.get().plus(Duration.ofMinutes(1)));
    Server holder = ran.get(0) ? a : b;
    Server other = ran.get(0) ? b : a;
    assertThat(other.runner().runIfHolder("key-rotation", other.rotations()::runDueRotations))
        .isFalse();
    assertThat(holder.runner().runIfHolder("key-rotation", holder.rotations()::runDueRotations))
        .isTrue();
    assertThat(rotationRows(id)).isEqualTo(1);
    assertThat(backingKeys.get()).isEqualTo(1);
  }

  @Test
  void dueRotations_twoServersWithoutALease_stillRotatedOnceEach() throws Exception {
    List<UUID> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ids.add(keyDueForRotation());
    }
    now.set(T0.plus(Duration.ofDays(91)));

    List<Integer> rotated =
        bothAtOnce(a.rotations()::runDueRotations, b.rotations()::runDueRotations);

    // The compare-and-set on the due date: a second rotation of one due date is never stored.
    assertThat(rotated.get(0) + rotated.get(1)).isEqualTo(ids.size());
    for (UUID id : ids) {
      assertThat(rotationRows(id)).isEqualTo(1);
    }
  }

  @Test
  void dueDeletion_twoServers_deletedOnce_withAndWithoutTheLease() throws Exception {
    UUID leased = a.keys().createKey(CreateKeyRequest.of("deleted under the lease")).keyId();
    List<UUID> unleased = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      unleased.add(a.keys().createKey(CreateKeyRequest.of("deleted without")).keyId());
    }
    a.lifecycle().scheduleKeyDeletion(leased.toString(), 7);
    for (UUID id : unleased) {
      b.lifecycle().scheduleKeyDeletion(id.toString(), 7);
    }
    now.set(T0.plus(Duration.ofDays(8)));

    AtomicInteger deleted = new AtomicInteger();
    List<Boolean> ran =
        bothAtOnce(
            () ->
                a.runner()
                    .runIfHolder(
                        "key-deletion", () -> deleted.addAndGet(a.deletions().runDueDeletions())),
            () ->
                b.runner()
                    .runIfHolder(
                        "key-deletion", () -> deleted.addAndGet(b.deletions().runDueDeletions())));
    assertThat(ran).containsExactlyInAnyOrder(true, false);
    assertThat(deleted.get()).isEqualTo(1 + unleased.size());

    // Nothing left to do: a racing pass without the lease deletes nothing twice.
    List<Integer> again =
        bothAtOnce(a.deletions()::runDueDeletions, b.deletions()::runDueDeletions);
    assertThat(again).containsExactly(0, 0);
    assertThat(a.store().findDeletedKey(leased)).isPresent();
    assertThat(b.store().findKey(leased)).isEmpty();
  }

  @Test
  void dueDeletions_twoServersWithoutALease_eachKeyDeletedOnce() throws Exception {
    List<UUID> ids = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      UUID id = a.keys().createKey(CreateKeyRequest.of("deleted")).keyId();
      a.lifecycle().scheduleKeyDeletion(id.toString(), 7);
      ids.add(id);
    }
    now.set(T0.plus(Duration.ofDays(8)));

    List<Integer> deleted =
        bothAtOnce(a.deletions()::runDueDeletions, b.deletions()::runDueDeletions);

    assertThat(deleted.get(0) + deleted.get(1)).isEqualTo(ids.size());
    for (UUID id : ids) {
      assertThat(b.store().findDeletedKey(id)).isPresent();
    }
  }

  @Test
  void leaseOfADeadServer_isTakenOverAfterExpiry_andAStoppedOneGivesItUpAtOnce() {
    UUID id = keyDueForRotation();
    // The rotation is due; A takes the lease and "dies" before doing the work: it never renews.
    Instant taken = T0.plus(Duration.ofDays(91));
    now.set(taken);
    assertThat(a.runner().runIfHolder("key-rotation", () -> {})).isTrue();

    now.set(taken.plus(LEASE).minusSeconds(1));
    assertThat(b.runner().runIfHolder("key-rotation", b.rotations()::runDueRotations)).isFalse();
    assertThat(rotationRows(id)).isZero();

    // Expired: B takes it over and does the work that fell due; A's lease is gone.
    now.set(taken.plus(LEASE));
    assertThat(b.runner().runIfHolder("key-rotation", b.rotations()::runDueRotations)).isTrue();
    assertThat(rotationRows(id)).isEqualTo(1);
    assertThat(a.runner().runIfHolder("key-rotation", a.rotations()::runDueRotations)).isFalse();

    // B stops: it gives the lease up, and A takes over at once, long before any expiry.
    b.runner().close();
    assertThat(a.runner().runIfHolder("key-rotation", a.rotations()::runDueRotations)).isTrue();
    assertThat(rotationRows(id)).isEqualTo(1);
  }

  @Test
  void leasedWorkThatOutlastsTheLease_isRenewedWhileItRuns() throws Exception {
    Duration shortLease = Duration.ofMillis(400);
    try (LeasedRunner slowA =
            new LeasedRunner(Leases.of(a.store()), "slow-a", Clock.systemUTC(), shortLease);
        LeasedRunner quickB =
            new LeasedRunner(Leases.of(b.store()), "quick-b", Clock.systemUTC(), shortLease)) {
      AtomicReference<Boolean> bRanMeanwhile = new AtomicReference<>(false);
      boolean ran =
          slowA.runIfHolder(
              "slow",
              () -> {
                for (int i = 0; i < 5; i++) {
                  sleep(200);
                  bRanMeanwhile.set(bRanMeanwhile.get() || quickB.runIfHolder("slow", () -> {}));
                }
              });
      assertThat(ran).isTrue();
      // A second of work under a 400 ms lease: renewed every 133 ms, never taken over.
      assertThat(bRanMeanwhile.get()).isFalse();
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
