package io.p11kms.hsm;

import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * What a cached backing key and a destroyed object cost the process in resident memory, off by
 * default:
 *
 * <pre>
 * LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 MALLOC_CONF=background_thread:true \
 *   mvn -pl hsm-adapter test \
 *   -Dtest=BackingKeyMemoryBenchTest -Dp11kms.bench=true [-Dp11kms.bench.keys=N] \
 *   -DargLine="-Xms256m -Xmx256m -XX:+AlwaysPreTouch"
 * </pre>
 *
 * (jemalloc preloaded as run.sh runs the server, its background thread returning freed pages while
 * the test waits, as a busy server's own allocations make it do; the heap fixed and touched, so
 * that it does not move the figures). With library recycling off: makes N backing keys (each
 * generated, wrapped and destroyed: N objects' remains), unwraps each into a cache of N (N session
 * objects), then evicts them all (N more destroyed); prints VmRSS and the anonymous memory after
 * each step and the difference per object. Asserts nothing.
 */
@EnabledIfSystemProperty(named = "p11kms.bench", matches = "true")
class BackingKeyMemoryBenchTest {

  @Test
  void residentBytesPerCachedKeyAndPerDestroyedObject() throws Exception {
    int count = Integer.getInteger("p11kms.bench.keys", 20_000);
    System.out.println("LD_PRELOAD=" + System.getenv("LD_PRELOAD"));
    try (SoftHsmTestToken token = SoftHsmTestToken.create();
        Pkcs11Hsm hsm =
            Pkcs11Hsm.open(
                token
                    .hsmConfig()
                    .withLibraryRecycle(0)
                    .withCache(count, HsmConfig.DEFAULT_CACHE_MAX_AGE))) {
      byte[] salt = hsm.generateRandom(Hsm.SALT_LENGTH);
      byte[] iv = hsm.generateRandom(Hsm.IV_LENGTH);
      byte[] aad = new byte[96];
      byte[] plaintext = new byte[256];
      Derivation derivation = hsm.preferredDerivation();
      // Warm the paths (the JIT, the allocator's first pages) with keys that are then evicted.
      for (int i = 0; i < 2_000; i++) {
        hsm.encrypt(hsm.generateBackingKey(), derivation, salt, iv, aad, plaintext);
      }
      hsm.evictCachedBackingKeys();
      WrappedKey[] keys = new WrappedKey[count];
      long[] start = settledMemory();
      for (int i = 0; i < count; i++) {
        keys[i] = hsm.generateBackingKey();
      }
      long[] made = settledMemory();
      report("made and destroyed " + count + " generated keys", start, made, count);
      for (WrappedKey key : keys) {
        hsm.encrypt(key, derivation, salt, iv, aad, plaintext);
      }
      long[] cached = settledMemory();
      System.out.printf("cached backing keys: %,d%n", hsm.cachedBackingKeyCount());
      report("unwrapped " + count + " keys into the cache", made, cached, count);
      hsm.evictCachedBackingKeys();
      long[] evicted = settledMemory();
      report("evicted and destroyed the " + count + " cached keys", cached, evicted, count);
      report("remains of all " + (2 * count) + " destroyed objects", start, evicted, 2 * count);
    }
  }

  private static void report(String step, long[] before, long[] after, int objects) {
    System.out.printf(
        "%s: VmRSS %,d -> %,d kB (%+.0f B per object), anonymous %,d -> %,d kB (%+.0f B per"
            + " object)%n",
        step,
        before[0],
        after[0],
        (after[0] - before[0]) * 1024.0 / objects,
        before[1],
        after[1],
        (after[1] - before[1]) * 1024.0 / objects);
  }

  /**
   * VmRSS and anonymous memory in kB, after jemalloc's decay has had time to return freed pages (10
   * s by default) and a collection.
   */
  private static long[] settledMemory() throws Exception {
    System.gc();
    Thread.sleep(12_000);
    long rss = -1;
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        rss = Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    long anonymous = -1;
    for (String line : Files.readAllLines(Path.of("/proc/self/smaps_rollup"))) {
      if (line.startsWith("Anonymous:")) {
        anonymous = Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return new long[] {rss, anonymous};
  }
}
