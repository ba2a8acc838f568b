package io.p11kms.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Two figures of the machine itself, measured in the benchmark's JVM while no call is in flight,
 * which no p11kms code touches: the CPU a fixed piece of Java work costs (a SHA-256 of 4 KiB) and
 * the CPU of a hand-off between two threads (one wakes the other through a queue and waits to be
 * woken back), which every call pays several times between the event loop, the handler threads and
 * the token's workers. On a virtual machine both move with what the host runs beside it, which the
 * points' {@code other} column does not see: runs whose gauges differ ran on different machines, as
 * far as their CPU per call goes.
 */
final class MachineGauge {
  static final int SHA_BYTES = 4096;
  static final int SHA_ROUNDS = 20_000;
  static final int HAND_OFFS = 10_000;

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  /** The CPU microseconds of one SHA-256 of 4 KiB and of one hand-off there and back. */
  record Figures(double shaMicros, double handOffMicros) {
    @Override
    public String toString() {
      return String.format(
          Locale.ROOT,
          "SHA-256 of 4 KiB %.1f us, a hand-off between two threads and back %.1f us (CPU)",
          shaMicros,
          handOffMicros);
    }
  }

  private MachineGauge() {}

  /** Measures both, each the best of three rounds (the first ones warm the JIT). */
  static Figures measure() throws InterruptedException {
    double sha = Double.MAX_VALUE;
    double handOff = Double.MAX_VALUE;
    for (int round = 0; round < 3; round++) {
      sha = Math.min(sha, shaMicros());
      handOff = Math.min(handOff, handOffMicros());
    }
    return new Figures(sha, handOff);
  }

  private static double shaMicros() {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    byte[] data = new byte[SHA_BYTES];
    long begun = THREADS.getCurrentThreadCpuTime();
    for (int i = 0; i < SHA_ROUNDS; i++) {
      data[0] = (byte) i;
      data = Arrays.copyOf(digest.digest(data), SHA_BYTES);
    }
    return (THREADS.getCurrentThreadCpuTime() - begun) / 1e3 / SHA_ROUNDS;
  }

  /** Two threads pass a token back and forth through two queues; their CPU per round trip. */
  private static double handOffMicros() throws InterruptedException {
    BlockingQueue<Integer> there = new ArrayBlockingQueue<>(1);
    BlockingQueue<Integer> back = new ArrayBlockingQueue<>(1);
    AtomicLong cpu = new AtomicLong();
    Thread echo =
        new Thread(
            () -> {
              long begun = THREADS.getCurrentThreadCpuTime();
              try {
                for (int i = 0; i < HAND_OFFS; i++) {
                  back.put(there.take());
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              cpu.addAndGet(THREADS.getCurrentThreadCpuTime() - begun);
            },
            "gauge-echo");
    echo.start();
    long begun = THREADS.getCurrentThreadCpuTime();
    for (int i = 0; i < HAND_OFFS; i++) {
      there.put(i);
      back.take();
    }
    cpu.addAndGet(THREADS.getCurrentThreadCpuTime() - begun);
    echo.join();
    return cpu.get() / 1e3 / HAND_OFFS;
  }
}
