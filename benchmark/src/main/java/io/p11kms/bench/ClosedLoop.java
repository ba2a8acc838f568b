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

  /** The share of the server's CPU its JIT compilers may take in a warm-up round, settled. */
  static final double JIT_SETTLED = 0.03;

  /** The most time spent warming one path until its compilers settle. */
  static final Duration JIT_SETTLE_LIMIT = Duration.ofSeconds(90);

  /**
   * Runs {@code call} unmeasured, {@code concurrency} in flight, in rounds of the server warm-up
   * time of {@code timing}, until the server's JIT compilers spent at most {@link #JIT_SETTLED} of
   * the server's CPU in a round, after at least {@link #WARM_CALLS} calls, or until {@link
   * #JIT_SETTLE_LIMIT}. After 20,000 calls on a busy machine the JSON path's compilers still took a
   * fifth of the server's CPU, and a point measured the compilers more than the path; a half-peak
   * run of its own, warmed by 20,000 Encrypt calls only, cost the server half as much again per
   * call as the same point of a full run.
   */
  static void warmUntilCompiled(
      String operation,
      int concurrency,
      Timing timing,
      CpuMeter cpu,
      Supplier<ListenableFuture<?>> call)
      throws InterruptedException {
    Timing round = new Timing(Duration.ZERO, timing.serverWarmup());
    long begun = System.nanoTime();
    long calls = 0;
    double share;
    boolean settled;
    do {
      long server = cpu.serverNanos();
      long compiler = cpu.serverCompilerNanos();
      calls += run("warm-up", operation, concurrency, 1, round, cpu, call).calls();
      long spent = cpu.serverNanos() - server;
      share = spent <= 0 ? 1 : (double) (cpu.serverCompilerNanos() - compiler) / spent;
      settled = calls >= WARM_CALLS && share <= JIT_SETTLED;
    } while (!settled && System.nanoTime() - begun < JIT_SETTLE_LIMIT.toNanos());
    System.out.printf(
        Locale.ROOT,
        "  warm-up %s: %,d calls in %.1f s, the server's JIT compilers %.0f%% of its CPU in the"
            + " last round (%s)%n",
        operation,
        calls,
        (System.nanoTime() - begun) / 1e9,
        100 * share,
        settled ? "settled" : "not settled at the limit");
  }

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
