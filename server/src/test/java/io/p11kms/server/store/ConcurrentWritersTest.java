package io.p11kms.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two store instances on one database (two connection pools: two servers), {@value #THREADS}
 * threads each, writing one key at once: no update is lost, unique names stay unique.
 */
abstract class ConcurrentWritersTest {
  static final int THREADS = 4;
  private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");

  private KeyStore serverA;
  private KeyStore serverB;
  private ExecutorService pool;
  private UUID keyId;

  /** The URL of a new, empty database. */
  protected abstract String newDatabaseUrl();

  @BeforeEach
  void open() {
    String url = newDatabaseUrl();
    serverA = KeyStores.open(url);
    serverB = KeyStores.open(url);
    pool = Executors.newFixedThreadPool(2 * THREADS);
    keyId = UUID.randomUUID();
    serverA.createKey(StoreContractPart.key(keyId), StoreContractPart.version(keyId, 1));
  }

  @AfterEach
  void close() {
    pool.shutdownNow();
    serverA.close();
    serverB.close();
  }

  /** A writer: thread {@code t} of 2 x THREADS, on its server's store. */
  @FunctionalInterface
  interface Writer<T> {
    T write(KeyStore store, int thread) throws Exception;
  }

  /** Runs one writer per thread, all released at once, half on each server; their results. */
  private <T> List<T> race(Writer<T> writer) throws Exception {
    CyclicBarrier start = new CyclicBarrier(2 * THREADS);
    List<Future<T>> futures = new ArrayList<>();
    for (int t = 0; t < 2 * THREADS; t++) {
      KeyStore store = t % 2 == 0 ? serverA : serverB;
      int thread = t;
      futures.add(
          pool.submit(
              () -> {
                start.await();
                return writer.write(store, thread);
              }));
    }
    List<T> results = new ArrayList<>();
    for (Future<T> f : futures) {
      results.add(f.get());
    }
    return results;
  }

  @Test
  void tags_everyThreadsTagsArrive() throws Exception {
    race(
        (store, t) -> {
          for (int i = 0; i < 5; i++) {
            assertThat(store.tagKey(keyId, "ENABLED", Map.of("t" + t + "-" + i, "v" + t), 50))
                .isTrue();
          }
          return null;
        });
    assertThat(serverB.listTags(keyId, 100, Optional.empty()).items()).hasSize(2 * THREADS * 5);
  }

  @Test
  void tagLimit_holdsAcrossServers() throws Exception {
    AtomicInteger refused = new AtomicInteger();
    race(
        (store, t) -> {
          for (int i = 0; i < 5; i++) {
            try {
              store.tagKey(keyId, "ENABLED", Map.of("t" + t + "-" + i, "v"), 10);
            } catch (TagLimitExceededException e) {
              refused.incrementAndGet();
            }
          }
          return null;
        });
    assertThat(serverA.listTags(keyId, 100, Optional.empty()).items()).hasSize(10);
    assertThat(refused.get()).isEqualTo(2 * THREADS * 5 - 10);
  }

  @Test
  void stateChanges_eachSuccessfulFlipSawTheTrueState() throws Exception {
    List<Integer> flips =
        race(
            (store, t) -> {
              int won = 0;
              for (int i = 0; i < 20; i++) {
                String state = store.findKey(keyId).orElseThrow().keyState();
                String next = state.equals("ENABLED") ? "DISABLED" : "ENABLED";
                if (store.updateKeyState(keyId, state, next, null, null)) {
                  won++;
                }
              }
              return won;
            });
    int total = flips.stream().mapToInt(Integer::intValue).sum();
    assertThat(total).isPositive();
    // A lost update would let two writers flip from one state: the parity would break.
    assertThat(serverA.findKey(keyId).orElseThrow().keyState())
        .isEqualTo(total % 2 == 0 ? "ENABLED" : "DISABLED");
  }

  @Test
  void rotations_everyOneStoredWithItsOwnVersionNumber() throws Exception {
    int perThread = 3;
    race(
        (store, t) -> {
          for (int i = 0; i < perThread; i++) {
            assertThat(
                    store.addRotation(
                        new RotationRecord(keyId, UUID.randomUUID(), NOW, "ON_DEMAND"),
                        "ENABLED",
                        null,
                        null,
                        1,
                        1,
                        new byte[40]))
                .isPresent();
          }
          return null;
        });
    int rotations = 2 * THREADS * perThread;
    assertThat(serverA.listRotations(keyId, 1000, Optional.empty()).items()).hasSize(rotations);
    assertThat(serverB.findLatestVersion(keyId).orElseThrow().versionNumber())
        .isEqualTo(rotations + 1);
  }

  @Test
  void descriptions_everyWriteSucceedsAndTheLastOneStays() throws Exception {
    Set<String> written = new HashSet<>();
    for (int t = 0; t < 2 * THREADS; t++) {
      written.add("description " + t);
    }
    List<Boolean> results =
        race((store, t) -> store.updateDescription(keyId, "ENABLED", "description " + t));
    assertThat(results).containsOnly(true);
    assertThat(written).contains(serverA.findKey(keyId).orElseThrow().description());
  }

  @Test
  void policies_concurrentWritesOfOneKeyEndWithOnePolicy() throws Exception {
    race(
        (store, t) -> {
          AccessStore.of(store).putPolicy(keyId, "{\"policy\":" + t + "}", NOW);
          return null;
        });
    assertThat(AccessStore.of(serverA).findPolicy(keyId)).get().asString().startsWith("{");
  }

  @Test
  void aliasName_acrossServers_exactlyOneCreateSucceeds() throws Exception {
    List<String> outcomes =
        race(
            (store, t) -> {
              try {
                return store.createAlias(
                        new AliasRecord("alias/one-name", keyId, NOW, NOW), "ENABLED")
                    ? "created"
                    : "refused";
              } catch (AliasAlreadyExistsException e) {
                return "exists";
              }
            });
    assertThat(outcomes).containsOnlyOnce("created").doesNotContain("refused");
    assertThat(outcomes).filteredOn("exists"::equals).hasSize(2 * THREADS - 1);
  }
}
