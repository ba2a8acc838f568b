package io.p11kms.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Migration 5: leases, taken by one atomic statement, by two store instances on one database. */
abstract class LeasesTest {
  private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
  private static final Duration LEASE = Duration.ofMinutes(5);

  private KeyStore storeA;
  private KeyStore storeB;
  private Leases a;
  private Leases b;

  /** The URL of a new, empty database. */
  protected abstract String newDatabaseUrl();

  @BeforeEach
  void open() {
    String url = newDatabaseUrl();
    storeA = KeyStores.open(url);
    storeB = KeyStores.open(url);
    a = Leases.of(storeA);
    b = Leases.of(storeB);
  }

  @AfterEach
  void close() {
    storeA.close();
    storeB.close();
  }

  @Test
  void heldLease_isRefusedToOthersAndRenewedByItsOwner() {
    assertThat(a.tryAcquire("work", "A", T0, LEASE)).isTrue();
    assertThat(b.tryAcquire("work", "B", T0.plusSeconds(1), LEASE)).isFalse();
    // Renewed at +4 min: valid until +9 min, so B still cannot take it at +6 min.
    assertThat(a.tryAcquire("work", "A", T0.plus(Duration.ofMinutes(4)), LEASE)).isTrue();
    assertThat(b.tryAcquire("work", "B", T0.plus(Duration.ofMinutes(6)), LEASE)).isFalse();
    // Another name is another lease.
    assertThat(b.tryAcquire("other", "B", T0, LEASE)).isTrue();
  }

  @Test
  void leaseOfADeadOwner_isTakenOverOnceExpired_andTheOldOwnerCannotRenew() {
    assertThat(a.tryAcquire("work", "A", T0, LEASE)).isTrue();
    assertThat(b.tryAcquire("work", "B", T0.plus(LEASE).minusNanos(1000), LEASE)).isFalse();
    assertThat(b.tryAcquire("work", "B", T0.plus(LEASE), LEASE)).isTrue();
    assertThat(a.tryAcquire("work", "A", T0.plus(LEASE).plusSeconds(1), LEASE)).isFalse();
  }

  @Test
  void released_isFreeAtOnce_andOnlyTheOwnerReleases() {
    assertThat(a.tryAcquire("work", "A", T0, LEASE)).isTrue();
    assertThat(b.release("work", "B")).isFalse();
    assertThat(b.tryAcquire("work", "B", T0, LEASE)).isFalse();
    assertThat(a.release("work", "A")).isTrue();
    assertThat(b.tryAcquire("work", "B", T0, LEASE)).isTrue();
  }

  @Test
  void concurrentAcquire_8threadsOnTwoStores_exactlyOneHolder() throws Exception {
    int threads = 8;
    CyclicBarrier start = new CyclicBarrier(threads);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        Leases leases = t % 2 == 0 ? a : b;
        String owner = "owner-" + t;
        Callable<Boolean> take =
            () -> {
              start.await();
              return leases.tryAcquire("race", owner, T0, LEASE);
            };
        results.add(pool.submit(take));
      }
      int holders = 0;
      for (Future<Boolean> f : results) {
        holders += f.get() ? 1 : 0;
      }
      assertThat(holders).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
  }
}
