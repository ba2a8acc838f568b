package io.p11kms.hsm;

import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The adapter's encrypt with one key and with a key picked out of many, off by default:
 *
 * <pre>
 * mvn -pl hsm-adapter test -Dtest=KeyCountThroughputTest -Dp11kms.bench=true \
 *   [-Dp11kms.bench.keys=N] [-Dp11kms.bench.choices=one,hot,zipf,uniform] \
 *   [-Dp11kms.bench.threads=1,4] [-Dp11kms.bench.ops=40000] [-Dp11kms.bench.warm=100000] \
 *   [-Dp11kms.bench.rounds=2] [-Dp11kms.bench.cache=13000] [-Dp11kms.bench.recycle=0]
 * </pre>
 *
 * Makes N keys first (default 100,000: about 20 s), then, each round, one point per choice: {@code
 * one} (always the same key), {@code uniform} (any of the N), {@code zipf} (Zipf(1.0) over the N,
 * as the service benchmark's Zipf point), {@code hot} (uniformly among the Zipf choice's 5,000
 * hottest keys: hits among a full cache, what a hit costs at the Zipf point), {@code mix} (four
 * calls in five the first key, the fifth any of the N: misses between hits on one key). Each point
 * first runs untimed, {@code warm} calls for {@code zipf}, {@code hot} and {@code mix} (so that the
 * cache's hit rate settles), {@code ops} for the others. Prints operations per second, this JVM's
 * CPU per operation, the backing key cache's hit rate, and the CPU per miss beyond a hit: against
 * the {@code one} point and, after a {@code hot} point, against it. The library is not recycled (no
 * health probe runs here) unless {@code recycle} is set. Asserts nothing. With many more keys than
 * the backing key cache holds, most requests unwrap their key: this shows what that costs.
 */
@EnabledIfSystemProperty(named = "p11kms.bench", matches = "true")
class KeyCountThroughputTest {
  private static final int HOT_RANKS = 5_000;

  @Test
  void encrypt_oneKeyAgainstAKeyPickedOutOfMany() throws Exception {
    int count = Integer.getInteger("p11kms.bench.keys", 100_000);
    int cache = Integer.getInteger("p11kms.bench.cache", HsmConfig.DEFAULT_CACHE_MAX_KEYS);
    long recycle = Long.getLong("p11kms.bench.recycle", 0L);
    String[] choices = System.getProperty("p11kms.bench.choices", "one,uniform").split(",");
    int[] threadCounts =
        Arrays.stream(System.getProperty("p11kms.bench.threads", "1,4").split(","))
            .mapToInt(Integer::parseInt)
            .toArray();
    int ops = Integer.getInteger("p11kms.bench.ops", 40_000);
    int warm = Integer.getInteger("p11kms.bench.warm", 100_000);
    int rounds = Integer.getInteger("p11kms.bench.rounds", 2);
    try (SoftHsmTestToken token = SoftHsmTestToken.create();
        Pkcs11Hsm hsm =
            Pkcs11Hsm.open(
                token
                    .hsmConfig()
                    .withCache(cache, HsmConfig.DEFAULT_CACHE_MAX_AGE)
                    .withLibraryRecycle(recycle))) {
      System.out.printf(
          "backing key cache: %,d keys; library recycle: %,d objects; VmRSS %s%n",
          cache, recycle, rss());
      WrappedKey[] keys = new WrappedKey[count];
      long start = System.nanoTime();
      for (int i = 0; i < count; i++) {
        keys[i] = hsm.generateBackingKey();
      }
      System.out.printf("made %,d keys in %.1f s%n", count, (System.nanoTime() - start) / 1e9);
      byte[] salt = hsm.generateRandom(Hsm.SALT_LENGTH);
      byte[] iv = hsm.generateRandom(Hsm.IV_LENGTH);
      byte[] aad = new byte[96];
      byte[] plaintext = new byte[256];
      Derivation derivation = hsm.preferredDerivation();
      ZipfChoice zipf = new ZipfChoice(count, 1.0);
      int hotRanks = Math.min(HOT_RANKS, count);
      for (int round = 0; round < rounds; round++) {
        for (int threads : threadCounts) {
          double oneCpu = Double.NaN;
          double hotCpu = Double.NaN;
          for (String choice : choices) {
            IntSupplier pick =
                switch (choice) {
                  case "one" -> () -> 0;
                  case "uniform" -> () -> ThreadLocalRandom.current().nextInt(count);
                  case "zipf" -> zipf::next;
                  case "hot" -> () -> zipf.amongHottest(hotRanks);
                  case "mix" ->
                      () -> {
                        ThreadLocalRandom random = ThreadLocalRandom.current();
                        return random.nextInt(5) == 0 ? random.nextInt(count) : 0;
                      };
                  default -> throw new IllegalArgumentException("choice " + choice);
                };
            Runnable encrypt =
                () -> hsm.encrypt(keys[pick.getAsInt()], derivation, salt, iv, aad, plaintext);
            boolean settles = !choice.equals("one") && !choice.equals("uniform");
            BenchLoop.run(choice + " (warming)", threads, settles ? warm : ops, encrypt);
            long hits = hsm.backingKeyCacheHits();
            long misses = hsm.backingKeyCacheMisses();
            double cpu = BenchLoop.run(choice + " of " + count, threads, ops, encrypt);
            long h = hsm.backingKeyCacheHits() - hits;
            long m = hsm.backingKeyCacheMisses() - misses;
            double missRate = m / (double) Math.max(1, h + m);
            System.out.printf("  hit rate %.3f", 1 - missRate);
            if (m > 0) {
              System.out.printf(
                  "; CPU per miss beyond a hit: %.0f us against one key, %.0f us against a hot"
                      + " hit",
                  (cpu - oneCpu) / missRate, (cpu - hotCpu) / missRate);
            }
            System.out.printf("; VmRSS %s%n", rss());
            if (choice.equals("one")) {
              oneCpu = cpu;
            } else if (choice.equals("hot")) {
              hotCpu = cpu;
            }
          }
        }
      }
    }
  }

  private static String rss() throws java.io.IOException {
    for (String line :
        java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return line.substring(6).trim();
      }
    }
    return "?";
  }
}
