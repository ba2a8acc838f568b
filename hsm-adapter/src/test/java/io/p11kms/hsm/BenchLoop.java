package io.p11kms.hsm;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** The timed loop of the adapter's opt-in benchmarks: prints operations per second and CPU. */
final class BenchLoop {
  private BenchLoop() {}

  /**
   * Runs {@code operations} calls of {@code operation} spread over {@code threads} threads and
   * prints their rate and this JVM's CPU per call (from /proc, 10 ms ticks).
   *
   * @return this JVM's CPU per call, in microseconds
   */
  static double run(String name, int threads, int operations, Runnable operation) throws Exception {
    int perThread = operations / threads;
    ExecutorService executor = Executors.newFixedThreadPool(threads);
    try {
      long cpuBefore = cpuTicks();
      long start = System.nanoTime();
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        futures.add(
            executor.submit(
                () -> {
                  for (int i = 0; i < perThread; i++) {
                    operation.run();
                  }
                }));
      }
      for (Future<?> f : futures) {
        f.get();
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      int done = perThread * threads;
      double cpuMicros = (cpuTicks() - cpuBefore) * 10_000.0 / done;
      System.out.printf(
          "%s, %d thread(s): %,.0f ops/s, %.0f us CPU per op%n",
          name, threads, done / seconds, cpuMicros);
      return cpuMicros;
    } finally {
      executor.shutdown();
    }
  }

  private static long cpuTicks() throws Exception {
    String stat = Files.readString(Path.of("/proc/self/stat"));
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
  }
}
