package io.p11kms.bench;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * Starts calls at a fixed rate, whatever the server's speed, and measures each latency from the
 * moment the call was due (not when it was actually sent), so that a stalled server shows up in the
 * percentiles instead of silently lowering the rate. At most {@value #MAX_IN_FLIGHT} calls are in
 * flight; when that bound is reached the sender waits, and the wait counts as latency. The measured
 * calls slower than {@code slow}'s threshold are kept in it too. The server's allocation counter is
 * read before the first call and after the last, and the window's CPU from {@code /proc} on a
 * thread of its own: no scrape of the server falls in the window, and the sender never waits for a
 * reading.
 */
final class OpenLoop {
  static final int MAX_IN_FLIGHT = 512;

  private OpenLoop() {}

  static Point run(
      String phase,
      String operation,
      int keys,
      double callsPerSecond,
      Timing timing,
      CpuMeter cpu,
      SlowCalls slow,
      Supplier<ListenableFuture<?>> call)
      throws InterruptedException {
    Latencies latencies = new Latencies(timing.sampleCapacity());
    LongAdder completed = new LongAdder();
    AtomicLong errors = new AtomicLong();
    Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
    LongAdder all = new LongAdder();
    long interval = (long) (1e9 / callsPerSecond);
    // The server's allocation counter is read before the first call and after the last, outside
    // the measured window (its scrape costs the server CPU); the window's CPU readings come from
    // /proc on a thread of their own, so that the sender never waits for them.
    CompletableFuture<Long> allocatedBefore = cpu.serverAllocated();
    allocatedBefore.join();
    long start = System.nanoTime();
    long measureFrom = start + timing.warmup().toNanos();
    long end = measureFrom + timing.measure().toNanos();
    CompletableFuture<CpuMeter.Snapshot[]> window = cpuWindow(cpu, measureFrom, end);
    for (long i = 0; ; i++) {
      long due = start + i * interval;
      if (due >= end) {
        break;
      }
      long wait = due - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      inFlight.acquire();
      ListenableFuture<?> future;
      try {
        future = call.get();
      } catch (RuntimeException e) {
        errors.incrementAndGet();
        inFlight.release();
        continue;
      }
      future.addListener(
          () -> {
            long stop = System.nanoTime();
            inFlight.release();
            try {
              future.get();
              all.increment();
              if (stop >= measureFrom && stop <= end) {
                completed.increment();
              }
              if (due >= measureFrom) {
                latencies.record(stop - due);
                slow.record(due, stop - due);
              }
            } catch (Exception e) {
              errors.incrementAndGet();
            }
          },
          MoreExecutors.directExecutor());
    }
    if (!inFlight.tryAcquire(MAX_IN_FLIGHT, 60, TimeUnit.SECONDS)) {
      throw new IllegalStateException(operation + ": calls still running long after the end");
    }
    CpuMeter.Snapshot[] cpuWindow = window.join();
    double bytesPerCall =
        CpuMeter.bytesPerCallBetween(allocatedBefore, cpu.serverAllocated(), all.sum());
    return Point.of(
        phase,
        operation,
        0,
        keys,
        completed.sum(),
        timing.measureSeconds(),
        latencies.sorted(),
        errors.get(),
        CpuMeter.between(cpuWindow[0], cpuWindow[1], completed.sum())
            .withServerBytesPerCall(bytesPerCall));
  }

  private static CompletableFuture<CpuMeter.Snapshot[]> cpuWindow(
      CpuMeter cpu, long from, long to) {
    CompletableFuture<CpuMeter.Snapshot[]> window = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              try {
                window.complete(cpu.cpuWindow(from, to));
              } catch (InterruptedException | RuntimeException e) {
                window.completeExceptionally(e);
              }
            },
            "bench-cpu-window");
    t.setDaemon(true);
    t.start();
    return window;
  }
}
