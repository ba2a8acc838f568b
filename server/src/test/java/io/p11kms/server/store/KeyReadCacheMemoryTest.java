package io.p11kms.server.store;

import io.p11kms.server.auth.KeyPolicy;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * The heap a kept key read costs, off by default: {@code mvn -pl server -am test
 * -Dtest=KeyReadCacheMemoryTest -Dp11kms.bench=true -Dsurefire.failIfNoSpecifiedTests=false
 * [-Dp11kms.bench.keys=N]} (default 20,000 keys, each with the default policy of one creator).
 * Reads every key once through a real SQLite store and prints the heap in use after a full
 * collection, before and after, per key; asserts nothing.
 */
@EnabledIfSystemProperty(named = "p11kms.bench", matches = "true")
class KeyReadCacheMemoryTest {
  @TempDir Path dir;

  @Test
  void heapPerKeptKeyRead() throws Exception {
    int count = Integer.getInteger("p11kms.bench.keys", 20_000);
    try (JdbcKeyStore store =
        (JdbcKeyStore)
            KeyStores.open(StoreSettings.of("jdbc:sqlite:" + dir.resolve("keys.db")), count)) {
      AccessStore access = AccessStore.of(store);
      String policy = KeyPolicy.defaultDocument(List.of("local:developer", "spiffe://admin"));
      List<UUID> ids = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        UUID id = UUID.randomUUID();
        store.createKey(StoreContractPart.key(id), StoreContractPart.version(id, 1));
        access.putPolicy(id, policy, Instant.now());
        ids.add(id);
      }
      long before = heapInUse();
      for (UUID id : ids) {
        store.findKeyInUse(id, null).orElseThrow();
      }
      long after = heapInUse();
      System.out.printf(
          "%,d key reads kept (%,d-character policy each): %,d bytes of heap each%n",
          store.keysInUseCached(), policy.length(), (after - before) / store.keysInUseCached());
    }
  }

  private static long heapInUse() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
