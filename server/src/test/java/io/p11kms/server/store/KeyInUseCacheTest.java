package io.p11kms.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link KeyInUseCache} on a real SQLite file: reads are kept; no write of this store is hidden
 * from a read that starts after it, and a write of another one on the same file (another server) is
 * seen once the recheck bound has passed.
 */
class KeyInUseCacheTest {
  private static final Instant NOW = Instant.parse("2026-12-04T12:00:00Z");
  private static final int BOUND = 10_000;

  @TempDir Path dir;
  private String url;
  private JdbcKeyStore store;

  @BeforeEach
  void open() {
    url = "jdbc:sqlite:" + dir.resolve("keys.db");
    store = (JdbcKeyStore) KeyStores.open(url);
  }

  @AfterEach
  void close() {
    store.close();
  }

  private UUID create() {
    UUID id = UUID.randomUUID();
    store.createKey(StoreContractPart.key(id), StoreContractPart.version(id, 1));
    return id;
  }

  @Test
  void aRead_isKept_andAWriteOfThisStoreIsSeenByTheNextRead() {
    UUID id = create();
    KeyInUse first = store.findKeyInUse(id, null).orElseThrow();
    assertThat(store.keysInUseCached()).isEqualTo(1);
    assertThat(store.findKeyInUse(id, null)).contains(first);

    assertThat(store.updateKeyState(id, "ENABLED", "DISABLED", null, null)).isTrue();
    assertThat(store.findKeyInUse(id, null).orElseThrow().key().keyState()).isEqualTo("DISABLED");

    AccessStore.of(store).putPolicy(id, "{\"Statement\":[]}", NOW);
    assertThat(store.findKeyInUse(id, null).orElseThrow().policy())
        .isEqualTo(Optional.of("{\"Statement\":[]}"));
  }

  @Test
  void writesOfAnotherStore_areSeenWithinTheRecheckBound_onEveryPooledConnection()
      throws Exception {
    UUID id = create();
    UUID firstVersion = store.findLatestVersion(id).orElseThrow().versionId();
    // Fill the cache through several connections at once, so that more than one is pooled.
    assertThat(readConcurrently(id))
        .allSatisfy(k -> assertThat(k.key().keyState()).isEqualTo("ENABLED"));

    KeyVersionRecord rotated;
    try (KeyStore otherServer = KeyStores.open(url)) {
      rotated =
          otherServer
              .addRotation(
                  new RotationRecord(id, UUID.randomUUID(), NOW, "ON_DEMAND"),
                  "ENABLED",
                  null,
                  null,
                  1,
                  1,
                  new byte[40])
              .orElseThrow();
      assertThat(otherServer.updateKeyState(id, "ENABLED", "DISABLED", null, null)).isTrue();
    }
    afterTheRecheckBound();

    for (KeyInUse k : readConcurrently(id)) {
      assertThat(k.key().keyState()).isEqualTo("DISABLED");
      assertThat(k.version().orElseThrow().versionId()).isEqualTo(rotated.versionId());
    }
    // A named version is kept apart from the latest.
    assertThat(
            store.findKeyInUse(id, firstVersion).orElseThrow().version().orElseThrow().versionId())
        .isEqualTo(firstVersion);
  }

  @Test
  void aCommitOnARawConnection_isSeen() throws Exception {
    UUID id = create();
    assertThat(store.findKeyInUse(id, null).orElseThrow().key().description()).isNotEqualTo("raw");
    try (Connection raw = DriverManager.getConnection(url)) {
      raw.createStatement()
          .executeUpdate("UPDATE keys SET description = 'raw' WHERE key_id = '" + id + "'");
    }
    afterTheRecheckBound();
    assertThat(store.findKeyInUse(id, null).orElseThrow().key().description()).isEqualTo("raw");
  }

  @Test
  void anExposureRead_isKept_andAnotherStoresUnexposeIsSeenWithinTheRecheckBound()
      throws Exception {
    UUID id = create();
    store.xksKeys().expose(new XksKeyRecord("hot-key", id, true, true, NOW));
    XksKeyRecord first = store.xksKeys().find("hot-key").orElseThrow();
    assertThat(store.exposuresCached()).isEqualTo(1);
    assertThat(store.xksKeys().find("hot-key")).contains(first);
    assertThat(store.xksKeys().find("never-exposed")).isEmpty();

    try (KeyStore otherServer = KeyStores.open(url)) {
      assertThat(otherServer.xksKeys().remove("hot-key")).isTrue();
      otherServer.xksKeys().expose(new XksKeyRecord("never-exposed", id, true, false, NOW));
    }
    afterTheRecheckBound();

    assertThat(store.xksKeys().find("hot-key")).isEmpty();
    assertThat(store.xksKeys().find("never-exposed").orElseThrow().decrypt()).isFalse();
  }

  @Test
  void aWriteOfAnotherStore_isNotAskedFor_untilTheRecheckBoundHasPassed() throws Exception {
    Duration recheck = Duration.ofMillis(500);
    try (JdbcKeyStore rechecking = new JdbcKeyStore(new SqliteDialect(url), BOUND, recheck)) {
      rechecking.migrate();
      UUID id = create();
      // Before the read: its check of the change counter comes after this.
      long checked = System.nanoTime();
      assertThat(rechecking.findKeyInUse(id, null).orElseThrow().key().keyState())
          .isEqualTo("ENABLED");
      assertThat(store.updateKeyState(id, "ENABLED", "DISABLED", null, null)).isTrue();

      String seen = rechecking.findKeyInUse(id, null).orElseThrow().key().keyState();
      if (System.nanoTime() - checked < recheck.toNanos()) {
        // Served from the cache without asking the database: the other store's write is not seen
        // yet. (A slow machine may pass the bound first; then the read asked.)
        assertThat(seen).isEqualTo("ENABLED");
      }
      Thread.sleep(recheck.toMillis() + 1);
      assertThat(rechecking.findKeyInUse(id, null).orElseThrow().key().keyState())
          .isEqualTo("DISABLED");

      // Its own writes are seen by the next read, within the bound or not.
      assertThat(rechecking.updateKeyState(id, "DISABLED", "ENABLED", null, null)).isTrue();
      assertThat(rechecking.findKeyInUse(id, null).orElseThrow().key().keyState())
          .isEqualTo("ENABLED");
      AccessStore.of(rechecking).putPolicy(id, "{\"Statement\":[]}", NOW);
      assertThat(rechecking.findKeyInUse(id, null).orElseThrow().policy())
          .contains("{\"Statement\":[]}");
    }
  }

  @Test
  void aReadThatMissesWithinTheRecheckBound_doesNotHideAnotherStoresLaterWrite() throws Exception {
    Duration recheck = Duration.ofMillis(500);
    try (JdbcKeyStore rechecking = new JdbcKeyStore(new SqliteDialect(url), BOUND, recheck)) {
      rechecking.migrate();
      UUID checkedFirst = create();
      UUID readUnchecked = create();
      long checked = System.nanoTime();
      // Asks the change counter; the next miss within the bound reads without asking it.
      rechecking.findKeyInUse(checkedFirst, null).orElseThrow();
      assertThat(rechecking.findKeyInUse(readUnchecked, null).orElseThrow().key().keyState())
          .isEqualTo("ENABLED");
      boolean withinTheBound = System.nanoTime() - checked < recheck.toNanos();

      assertThat(store.updateKeyState(readUnchecked, "ENABLED", "DISABLED", null, null)).isTrue();
      Thread.sleep(recheck.toMillis() + 1);

      assertThat(rechecking.findKeyInUse(readUnchecked, null).orElseThrow().key().keyState())
          .isEqualTo("DISABLED");
      assertThat(withinTheBound).as("the second read ran within the recheck bound").isTrue();
    }
  }

  /** Waits until a check of the change counter no longer vouches for the kept reads. */
  private static void afterTheRecheckBound() throws InterruptedException {
    Thread.sleep(KeyInUseCache.DEFAULT_RECHECK.toMillis() + 1);
  }

  /** Reads the key from 8 threads at once, each 20 times; returns the last read of each. */
  private List<KeyInUse> readConcurrently(UUID id) throws Exception {
    ExecutorService threads = Executors.newFixedThreadPool(8);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<KeyInUse>> reads = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        reads.add(
            threads.submit(
                () -> {
                  start.await();
                  KeyInUse last = null;
                  for (int i = 0; i < 20; i++) {
                    last = store.findKeyInUse(id, null).orElseThrow();
                  }
                  return last;
                }));
      }
      start.countDown();
      List<KeyInUse> last = new ArrayList<>();
      for (Future<KeyInUse> f : reads) {
        last.add(f.get(30, TimeUnit.SECONDS));
      }
      return last;
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void keysReadOftenStay_whileKeysReadOnceComeAndGo_withinTheBound() {
    KeyInUseCache cache = new KeyInUseCache(BOUND);
    long generation = 7;
    List<UUID> hot = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      UUID id = UUID.randomUUID();
      hot.add(id);
      cache.put(id, null, generation, inUse(id));
    }
    // Requests: one in two reads a hot key, the others a tail key read once (a miss, then its
    // answer kept), three times as many tail keys as the cache holds.
    for (int i = 0; i < 3 * BOUND; i++) {
      assertThat(cache.get(hot.get(i % hot.size()), null, generation)).isNotNull();
      UUID id = UUID.randomUUID();
      assertThat(cache.get(id, null, generation)).isNull();
      cache.put(id, null, generation, inUse(id));
    }

    assertThat(cache.size()).isLessThanOrEqualTo(BOUND);
    hot.forEach(id -> assertThat(cache.get(id, null, generation)).as("hot key").isNotNull());
  }

  @Test
  void keysWithTheSamePolicyDocument_shareOneCopyOfIt() {
    KeyInUseCache cache = new KeyInUseCache(BOUND);
    UUID a = UUID.randomUUID();
    UUID b = UUID.randomUUID();
    // Two reads of the same document are two strings, as the JDBC driver returns them.
    String document = "{\"Statement\":[{\"Effect\":\"Allow\"}]}";
    cache.put(a, null, 1, withPolicy(a, new String(document)));
    cache.put(b, null, 1, withPolicy(b, new String(document)));

    String first = cache.get(a, null, 1).policy().orElseThrow();
    assertThat(first).isEqualTo(document);
    assertThat(cache.get(b, null, 1).policy().orElseThrow()).isSameAs(first);
  }

  @Test
  void aStoreOpenedWithoutAKeyReadCache_readsEveryTime() {
    try (JdbcKeyStore uncached =
        (JdbcKeyStore)
            KeyStores.open(StoreSettings.of("jdbc:sqlite:" + dir.resolve("uncached.db")), 0)) {
      UUID id = UUID.randomUUID();
      uncached.createKey(StoreContractPart.key(id), StoreContractPart.version(id, 1));
      assertThat(uncached.findKeyInUse(id, null)).isPresent();
      assertThat(uncached.keysInUseCached()).isZero();
    }
  }

  private static KeyInUse withPolicy(UUID id, String policy) {
    return new KeyInUse(StoreContractPart.key(id), Optional.empty(), Optional.of(policy));
  }

  private static KeyInUse inUse(UUID id) {
    return new KeyInUse(StoreContractPart.key(id), Optional.empty(), Optional.empty());
  }
}
