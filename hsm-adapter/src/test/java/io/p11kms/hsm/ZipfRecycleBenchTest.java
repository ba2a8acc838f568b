package io.p11kms.hsm;

import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The backing key cache's hit rate over time under a Zipf(1.0) key choice, across the library's
 * recycles, off by default: {@code mvn -pl hsm-adapter test -Dtest=ZipfRecycleBenchTest
 * -Dp11kms.bench=true [-Dp11kms.bench.keys=N] [-Dp11kms.bench.seconds=S] [-Dp11kms.bench.step=W]}
 * (default 100,000 keys, made first, and 150 s of encrypts at 4 threads, with the default cache and
 * recycle bound, the health probe's recycle check once a second as the server runs it). Prints each
 * 5 s window's hit rate (W s windows: -Dp11kms.bench.step, default 5), calls, recycles, the
 * process's CPU per call and its resident memory, and its peak resident memory at the end; asserts
 * nothing (preload jemalloc as run.sh does to see the server's allocator: {@code
 * LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2}). A recycle that left the cache's keys
 * behind shows as a dip of the hit rate in the windows after it.
 */
@EnabledIfSystemProperty(named = "p11kms.bench", matches = "true")
class ZipfRecycleBenchTest {

  @Test
  void hitRateAcrossRecycles() throws Exception {
    int count = Integer.getInteger("p11kms.bench.keys", 100_000);
    int seconds = Integer.getInteger("p11kms.bench.seconds", 150);
    int step = Integer.getInteger("p11kms.bench.step", 5);
    try (SoftHsmTestToken token = SoftHsmTestToken.create();
        Pkcs11Hsm hsm = Pkcs11Hsm.open(token.hsmConfig())) {
      WrappedKey[] keys = new WrappedKey[count];
      for (int i = 0; i < count; i++) {
        keys[i] = hsm.generateBackingKey();
      }
      ZipfChoice zipf = new ZipfChoice(count, 1.0);
      byte[] salt = hsm.generateRandom(Hsm.SALT_LENGTH);
      byte[] iv = hsm.generateRandom(Hsm.IV_LENGTH);
      byte[] aad = new byte[96];
      byte[] plaintext = new byte[256];
      Derivation derivation = hsm.preferredDerivation();
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong calls = new AtomicLong();
      ExecutorService callers = Executors.newFixedThreadPool(4);
      for (int t = 0; t < 4; t++) {
        callers.execute(
            () -> {
              while (!stop.get()) {
                WrappedKey key = keys[zipf.next()];
                hsm.encrypt(key, derivation, salt, iv, aad, plaintext);
                calls.incrementAndGet();
              }
            });
      }
      var probe = Executors.newSingleThreadScheduledExecutor();
      probe.scheduleWithFixedDelay(hsm::isHealthy, 1, 1, TimeUnit.SECONDS);
      var cpu = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
      long hits = hsm.backingKeyCacheHits();
      long misses = hsm.backingKeyCacheMisses();
      long done = calls.get();
      long cpuNanos = ((com.sun.management.OperatingSystemMXBean) cpu).getProcessCpuTime();
      System.out.printf("keys made; VmRSS %s%n", status("VmRSS:"));
      System.out.println("  s   hit rate   calls/s  misses/s  recycles  us CPU/call  VmRSS");
      for (int s = step; s <= seconds; s += step) {
        Thread.sleep(step * 1_000L);
        long h = hsm.backingKeyCacheHits();
        long m = hsm.backingKeyCacheMisses();
        long c = calls.get();
        long n = ((com.sun.management.OperatingSystemMXBean) cpu).getProcessCpuTime();
        System.out.printf(
            "%3d   %.3f   %,8d   %,6d   %d   %.0f   %s%n",
            s,
            (double) (h - hits) / Math.max(1, h - hits + m - misses),
            (c - done) / step,
            (m - misses) / step,
            hsm.libraryRecycles(),
            (n - cpuNanos) / 1e3 / Math.max(1, c - done),
            status("VmRSS:"));
        hits = h;
        misses = m;
        done = c;
        cpuNanos = n;
      }
      stop.set(true);
      probe.shutdown();
      callers.shutdown();
      callers.awaitTermination(30, TimeUnit.SECONDS);
      probe.awaitTermination(30, TimeUnit.SECONDS);
      System.out.printf("peak VmHWM %s%n", status("VmHWM:"));
    }
  }

  private static String status(String field) throws java.io.IOException {
    for (String line :
        java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
      if (line.startsWith(field)) {
        return line.substring(field.length()).trim();
      }
    }
    return "?";
  }
}
