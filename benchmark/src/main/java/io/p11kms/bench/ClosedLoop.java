package io.p11kms.bench;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import io.grpc.Status;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Keeps exactly {@code concurrency} asynchronous calls in flight for warm-up plus measurement: each
 * completion records its latency and starts the next call. Latency is from the call's start to its
 * completion; throughput counts completions inside the measured window.
 */
final class ClosedLoop {
  private final Supplier<ListenableFuture<?>> call;
  private final Latencies latencies;
  private final LongAdder completed = new LongAdder();
  private final AtomicLong errors = new AtomicLong();
  private final AtomicReference<String> firstError = new AtomicReference<>();
  private final ExecutorService retry = Executors.newSingleThreadExecutor();
  private final long measureFrom;
  private final long end;
  private final CountDownLatch finished;

  private ClosedLoop(
      Supplier<ListenableFuture<?>> call, int concurrency, Timing timing, long startNanos) {
    this.call = call;
    this.latencies = new Latencies(timing.sampleCapacity());
    this.measureFrom = startNanos + timing.warmup().toNanos();
    this.end = measureFrom + timing.measure().toNanos();
    this.finished = new CountDownLatch(concurrency);
  }

  static Point run(
      String phase,
      String operation,
      int concurrency,
      int keys,
      Timing timing,
      CpuMeter cpu,
      Supplier<ListenableFuture<?>> call)
      throws InterruptedException {
    ClosedLoop loop = new ClosedLoop(call, concurrency, timing, System.nanoTime());
    CpuMeter.Snapshot[] window;
    try {
      for (int i = 0; i < concurrency; i++) {
        loop.issue();
      }
      window = cpu.window(loop.measureFrom, loop.end);
      if (!loop.finished.await(
          timing.warmup().plus(timing.measure()).toSeconds() + 60, TimeUnit.SECONDS)) {
        throw new IllegalStateException(operation + ": calls still running long after the end");
      }
    } finally {
      loop.retry.shutdownNow();
    }
    if (loop.firstError.get() != null) {
      System.out.printf(
          "  %s x%d: %d failed calls, first: %s%n",
          operation, concurrency, loop.errors.get(), loop.firstError.get());
    }
    return Point.of(
        phase,
        operation,
        concurrency,
        keys,
        loop.completed.sum(),
        timing.measureSeconds(),
        loop.latencies.sorted(),
        loop.errors.get(),
        CpuMeter.between(window[0], window[1], loop.completed.sum()));
  }

  /**
   * Calls made unmeasured on a path before its first point: the server's JIT compiles a path after
   * some thousands of calls, not after some seconds, and a path that is slow while cold stays cold
   * for longer (a cold JIT made a gRPC Encrypt cost the server 3.4 ms of CPU instead of 0.2, and in
   * a quick run the compiler threads still took 0.4 cores during the 64-in-flight Encrypt point).
   */
  static final long WARM_CALLS = 20_000;

  /** The most time spent warming one path. */
  static final Duration WARM_LIMIT = Duration.ofSeconds(30);

  /**
   * Runs {@code call} unmeasured, {@code concurrency} in flight, in rounds of the server warm-up
   * time of {@code timing}, until {@link #WARM_CALLS} completed or {@link #WARM_LIMIT} passed.
   */
  static void warmUp(
      String operation,
      int concurrency,
      Timing timing,
      CpuMeter cpu,
      Supplier<ListenableFuture<?>> call)
      throws InterruptedException {
    Timing round = new Timing(Duration.ZERO, timing.serverWarmup());
    long start = System.nanoTime();
    long calls = 0;
    do {
      calls += run("warm-up", operation, concurrency, 1, round, cpu, call).calls();
    } while (calls < WARM_CALLS && System.nanoTime() - start < WARM_LIMIT.toNanos());
    System.out.printf(
        Locale.ROOT,
        "  warm-up %s: %,d calls in %.1f s%n",
        operation,
        calls,
        (System.nanoTime() - start) / 1e9);
  }

  private void issue() {
    long start = System.nanoTime();
    if (start >= end) {
      finished.countDown();
      return;
    }
    ListenableFuture<?> future;
    try {
      future = call.get();
    } catch (RuntimeException e) {
      failed(e);
      retry.execute(this::issue);
      return;
    }
    future.addListener(() -> done(future, start), MoreExecutors.directExecutor());
  }

  private void done(ListenableFuture<?> future, long start) {
    long stop = System.nanoTime();
    try {
      future.get();
      if (stop >= measureFrom && stop <= end) {
        completed.increment();
      }
      if (start >= measureFrom) {
        latencies.record(stop - start);
      }
    } catch (Exception e) {
      failed(e);
      // Never recurse on the caller's stack after a failure: a call that fails at once would.
      retry.execute(this::issue);
      return;
    }
    issue();
  }

  private void failed(Throwable e) {
    errors.incrementAndGet();
    Throwable cause = e.getCause() != null ? e.getCause() : e;
    // A status and its description only: never a request or a response.
    firstError.compareAndSet(null, Status.fromThrowable(cause).toString());
  }
}
