package io.p11kms.bench;

import java.io.IOException;
import java.util.Locale;

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
      ServerChild.CacheCounters counters = server.cacheCounters();
      // The first count keys: a database kept from a run before holds more keys already.
      Point p =
          ClosedLoop.run(
              "keys",
              "Encrypt",
              concurrency,
              count,
              timing,
              cpu,
              calls.encrypt(KeyChoice.uniform(count)));
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

  /** The backing key cache's hit rate over {@code p} (warm-up included), as a summary line. */
  private void cacheHitRate(Point p, ServerChild.CacheCounters before)
      throws IOException, InterruptedException {
    double rate = server.cacheCounters().hitRateSince(before);
    System.out.printf(Locale.ROOT, "  backing key cache hit rate: %.2f%n", rate);
    results.summary(
        "backing key cache hit rate, " + p.operation() + " at " + p.keys() + " keys",
        rate,
        "",
        null,
        null);
  }
}
