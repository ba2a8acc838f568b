package io.p11kms.bench;

import io.p11kms.hsm.Derivation;
import io.p11kms.hsm.Hsm;
import io.p11kms.hsm.HsmConfig;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.WrappedKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the token itself does per Encrypt request, through the adapter and nothing else: {@link
 * Pkcs11Hsm#encrypt} (unwrap the backing key, derive a one-use key from a salt, AES-GCM, destroy
 * both) in a loop on {@code threads} threads, with the same sizes as the service's requests.
 */
final class DirectLoop {
  /** The service's AAD is the blob header (about 80 bytes) plus the encoded context. */
  static final int AAD_BYTES = 96;

  private DirectLoop() {}

  static List<Point> run(HsmConfig config, int[] threadCounts, int plaintextBytes, Timing timing)
      throws InterruptedException {
    List<Point> points = new ArrayList<>();
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(config)) {
      WrappedKey key = hsm.generateBackingKey();
      byte[] plaintext = new byte[plaintextBytes];
      byte[] aad = new byte[AAD_BYTES];
      // Warm this JVM's JIT first, as the service's warm-up does for the server.
      measure(hsm, key, aad, plaintext, 2, new Timing(Duration.ZERO, timing.serverWarmup()));
      for (int threads : threadCounts) {
        points.add(measure(hsm, key, aad, plaintext, threads, timing));
      }
    }
    return points;
  }

  private static Point measure(
      Pkcs11Hsm hsm, WrappedKey key, byte[] aad, byte[] plaintext, int threads, Timing timing)
      throws InterruptedException {
    Derivation derivation = hsm.derivationFor(key);
    Latencies latencies = new Latencies(timing.sampleCapacity());
    LongAdder completed = new LongAdder();
    LongAdder errors = new LongAdder();
    long start = System.nanoTime();
    long measureFrom = start + timing.warmup().toNanos();
    long end = measureFrom + timing.measure().toNanos();
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread worker =
          new Thread(
              () -> {
                byte[] salt = new byte[Hsm.SALT_LENGTH];
                byte[] iv = new byte[Hsm.IV_LENGTH];
                ThreadLocalRandom random = ThreadLocalRandom.current();
                long t0;
                while ((t0 = System.nanoTime()) < end) {
                  random.nextBytes(salt);
                  random.nextBytes(iv);
                  try {
                    hsm.encrypt(key, derivation, salt, iv, aad, plaintext);
                  } catch (RuntimeException e) {
                    errors.increment();
                    continue;
                  }
                  long t1 = System.nanoTime();
                  if (t1 >= measureFrom && t1 <= end) {
                    completed.increment();
                  }
                  if (t0 >= measureFrom) {
                    latencies.record(t1 - t0);
                  }
                }
              },
              "direct-" + t);
      worker.start();
      workers.add(worker);
    }
    CpuMeter.Snapshot[] window = new CpuMeter(-1).window(measureFrom, end);
    for (Thread worker : workers) {
      worker.join();
    }
    return Point.of(
        "direct",
        "Pkcs11Hsm.encrypt",
        threads,
        1,
        completed.sum(),
        timing.measureSeconds(),
        latencies.sorted(),
        errors.sum(),
        CpuMeter.between(window[0], window[1], completed.sum()));
  }
}
