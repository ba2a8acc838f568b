package io.p11kms.bench;

import com.google.common.util.concurrent.ListenableFuture;
import java.io.IOException;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Point (c): as keys are added, Encrypt and Decrypt with a key picked uniformly at random per call,
 * and Encrypt with a key picked by a Zipf law (a few hot keys, a long tail), with the backing key
 * cache's hit rate over each Encrypt point.
 */
final class KeyCountPoints {
  /** Zipf's exponent for the key-count points with a realistic key choice. */
  static final double ZIPF_EXPONENT = 1.0;

  /** The operation name of the Encrypt points with a Zipf key choice. */
  static final String ZIPF_ENCRYPT = "Encrypt Zipf(1.0)";

  /**
   * The most ciphertexts the Decrypt points make: at 100,000 keys, up to 18,000 distinct keys, far
   * more than the backing key cache holds, so its Decrypt pays the unwrap as a random key per call
   * does (a set of 1,000 fit the cache and measured 1,000 keys).
   */
  static final int DECRYPT_SET_MAX = 20_000;

  static final int CREATE_IN_FLIGHT = 16;

  /** The length of one round of the warm-up before each Encrypt point. */
  static final Duration SETTLE_ROUND = Duration.ofSeconds(5);

  /** The hit rate has settled when three rounds in a row differ by at most this. */
  static final double SETTLE_TOLERANCE = 0.01;

  /**
   * The longest warm-up of one point: at 100,000 keys and about 2,000 misses a second, the library
   * is recycled about once a minute.
   */
  static final Duration SETTLE_LIMIT = Duration.ofSeconds(150);

  /** The objects made after which the server moves to a fresh SoftHSM2 instance, by default. */
  static final long SOFTHSM_RECYCLE_BOUND = 50_000;

  private final Results results;
  private final CpuMeter cpu;
  private final Timing timing;
  private final ServerChild server;

  KeyCountPoints(Results results, CpuMeter cpu, Timing timing, ServerChild server) {
    this.results = results;
    this.cpu = cpu;
    this.timing = timing;
    this.server = server;
  }

  /** Runs (c) at each of {@code counts} in turn, at {@code concurrency}; returns the key count. */
  int run(KmsCalls calls, int[] counts, int concurrency) throws IOException, InterruptedException {
    System.out.printf(
        "(c) key count, a key per call uniformly or by Zipf(%.1f), %d in flight%n",
        ZIPF_EXPONENT, concurrency);
    Point first = null;
    Point lastUniform = null;
    Point lastZipf = null;
    for (int count : counts) {
      int before = calls.keyCount();
      double seconds = calls.createKeysUpTo(count, CREATE_IN_FLIGHT);
      if (count > before) {
        int made = count - before;
        System.out.printf(
            Locale.ROOT,
            "  CreateKey x %,d: %.1f s (%.0f keys/s, %d in flight)%n",
            made,
            seconds,
            made / seconds,
            CREATE_IN_FLIGHT);
        results.summary(
            "CreateKey time, " + before + " to " + count + " keys", seconds, "s", null, null);
      }
      KeyChoice uniform = KeyChoice.uniform(count);
      settle("Encrypt", count, concurrency, calls.encrypt(uniform));
      ServerChild.CacheCounters counters = server.cacheCounters();
      // The first count keys: a database kept from a run before holds more keys already.
      Point p =
          ClosedLoop.run(
              "keys", "Encrypt", concurrency, count, timing, cpu, calls.encrypt(uniform));
      results.add(p);
      cacheHitRate(p, counters);
      int decryptSet = Math.max(ServicePoints.DECRYPT_SET, Math.min(count, DECRYPT_SET_MAX));
      results.add(
          ClosedLoop.run(
              "keys",
              "Decrypt",
              concurrency,
              count,
              timing,
              cpu,
              calls.decrypt(decryptSet, count)));
      if (count > 1) {
        KeyChoice zipf = KeyChoice.zipf(count, ZIPF_EXPONENT);
        settle(ZIPF_ENCRYPT, count, concurrency, calls.encrypt(zipf));
        counters = server.cacheCounters();
        lastZipf =
            ClosedLoop.run(
                "keys", ZIPF_ENCRYPT, concurrency, count, timing, cpu, calls.encrypt(zipf));
        results.add(lastZipf);
        cacheHitRate(lastZipf, counters);
      }
      first = first == null ? p : first;
      lastUniform = p;
    }
    boolean full = lastUniform.keys() >= 100_000;
    double zipfRatio = lastZipf.opsPerSecond() / first.opsPerSecond();
    results.summary(
        "Encrypt at " + lastZipf.keys() + " keys, Zipf(1.0) / at 1 key",
        zipfRatio,
        "x",
        ">= 0.8 at 100,000 keys",
        full ? zipfRatio >= 0.8 : null);
    double uniformRatio = lastUniform.opsPerSecond() / first.opsPerSecond();
    results.summary(
        "Encrypt at " + lastUniform.keys() + " keys, uniform / at 1 key",
        uniformRatio,
        "x",
        ">= 0.45 at 100,000 keys",
        full ? uniformRatio >= 0.45 : null);
    return calls.keyCount();
  }

  /**
   * Runs {@code call} unmeasured in rounds of {@link #SETTLE_ROUND} until the backing key cache's
   * hit rate settles: three rounds in a row within {@link #SETTLE_TOLERANCE} of each other (a rate
   * still climbing by 0.01 a round is not settled), and at least one library recycle since the
   * start if the server recycles at all in that time (the steady state of a server in use includes
   * moves to a fresh library instance); at most {@link #SETTLE_LIMIT}. Prints each round's hit
   * rate.
   */
  private void settle(
      String operation, int count, int concurrency, Supplier<ListenableFuture<?>> call)
      throws IOException, InterruptedException {
    Timing round = new Timing(Duration.ZERO, SETTLE_ROUND);
    ServerChild.CacheCounters start = server.cacheCounters();
    ServerChild.CacheCounters last = start;
    double previous = Double.NaN;
    double beforePrevious = Double.NaN;
    StringBuilder rates = new StringBuilder();
    long begun = System.nanoTime();
    long calls = 0;
    boolean settled = false;
    while (System.nanoTime() - begun < SETTLE_LIMIT.toNanos()) {
      calls += ClosedLoop.run("warm-up", operation, concurrency, count, round, cpu, call).calls();
      ServerChild.CacheCounters now = server.cacheCounters();
      double rate = now.hitRateSince(last);
      rates.append(String.format(Locale.ROOT, " %.2f", rate));
      boolean recycled = now.recycles() > start.recycles();
      double elapsed = (System.nanoTime() - begun) / 1e9;
      if (Math.abs(rate - previous) <= SETTLE_TOLERANCE
          && Math.abs(rate - beforePrevious) <= SETTLE_TOLERANCE
          && (recycled || !recycleExpected(now.misses() - start.misses(), elapsed))) {
        settled = true;
        break;
      }
      beforePrevious = previous;
      previous = rate;
      last = now;
    }
    ServerChild.CacheCounters end = server.cacheCounters();
    System.out.printf(
        Locale.ROOT,
        "  warm-up %s at %,d keys: %,d calls in %.0f s, %s; hit rate by %d s round:%s;"
            + " library recycles %d%n",
        operation,
        count,
        calls,
        (System.nanoTime() - begun) / 1e9,
        settled ? "settled" : "not settled at the limit",
        SETTLE_ROUND.toSeconds(),
        rates,
        end.recycles() - start.recycles());
  }

  /**
   * Whether a library recycle is to be waited for: at the rate of misses so far (each makes one
   * object), SoftHSM2's bound of objects is reached within {@link #SETTLE_LIMIT}. A point whose
   * keys all fit the cache, or a library that is never recycled, does not wait for one.
   */
  private static boolean recycleExpected(long misses, double seconds) {
    return misses / seconds * SETTLE_LIMIT.toSeconds() >= SOFTHSM_RECYCLE_BOUND;
  }

  /**
   * The backing key cache's hit rate over {@code p} (its 3 s warm-up included), as a summary line.
   */
  private void cacheHitRate(Point p, ServerChild.CacheCounters before)
      throws IOException, InterruptedException {
    ServerChild.CacheCounters after = server.cacheCounters();
    double rate = after.hitRateSince(before);
    System.out.printf(
        Locale.ROOT,
        "  backing key cache hit rate: %.2f (library recycles %d)%n",
        rate,
        after.recycles() - before.recycles());
    results.summary(
        "backing key cache hit rate, " + p.operation() + " at " + p.keys() + " keys",
        rate,
        "",
        null,
        null);
  }
}
