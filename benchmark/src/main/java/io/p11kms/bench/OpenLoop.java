package io.p11kms.bench;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
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
 * calls slower than {@code slow}'s threshold are kept in it too.
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
    long interval = (long) (1e9 / callsPerSecond);
    long start = System.nanoTime();
    long measureFrom = start + timing.warmup().toNanos();
    long end = measureFrom + timing.measure().toNanos();
    CpuMeter.Snapshot first = null;
    for (long i = 0; ; i++) {
      long due = start + i * interval;
      if (due >= end) {
        break;
      }
      if (first == null && due >= measureFrom) {
        first = cpu.snapshot();
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
    CpuMeter.Snapshot last = cpu.snapshot();
    if (!inFlight.tryAcquire(MAX_IN_FLIGHT, 60, TimeUnit.SECONDS)) {
      throw new IllegalStateException(operation + ": calls still running long after the end");
    }
    return Point.of(
        phase,
        operation,
        0,
        keys,
        completed.sum(),
        timing.measureSeconds(),
        latencies.sorted(),
        errors.get(),
        CpuMeter.between(first, last, completed.sum()));
  }
}
