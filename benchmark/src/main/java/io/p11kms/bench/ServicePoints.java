package io.p11kms.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Point (b), the service over gRPC on loopback with one key: Encrypt, Decrypt and GenerateDataKey
 * closed loop at several concurrencies, BatchEncrypt, the health Check (the transport's floor),
 * Encrypt at a fixed rate of half the peak; and the figures drawn from them against the direct loop
 * (the service cost, the shared-core ratio and its ceiling).
 */
final class ServicePoints {
  static final int[] CONCURRENCIES = {1, 4, 16, 64};
  static final int DECRYPT_SET = 1_000;
  static final int SERVICE_COST_IN_FLIGHT = 64;
  static final int SERVICE_COST_DIRECT_THREADS = 4;
  static final int SERVICE_COST_TARGET_MICROS = 45;

  /** The half-peak point's p99 target. */
  static final Duration TAIL_TARGET = Duration.ofMillis(5);

  /** The half-peak point's calls over {@link #TAIL_TARGET}, in the results folder. */
  static final String SLOW_CALLS = "slow-calls.csv";

  static final int BATCH_ITEMS = 100;
  static final int BATCH_IN_FLIGHT = 64;

  private final Results results;
  private final CpuMeter cpu;
  private final Timing timing;
  private final Timing warm;
  private final Path out;

  /**
   * @param out the results folder, where the client's and the server's GC logs are ({@link GcLog})
   */
  ServicePoints(Results results, CpuMeter cpu, Timing timing, Path out) {
    this.results = results;
    this.cpu = cpu;
    this.timing = timing;
    this.out = out;
    this.warm = new Timing(Duration.ZERO, timing.serverWarmup());
  }

  /** Runs (b) and the fixed-rate point; returns the concurrency at which Encrypt peaked. */
  int run(KmsCalls calls, List<Point> direct) throws InterruptedException {
    // The server's JIT is cold: warm every operation before the first measured point.
    System.out.println("server warm-up");
    ClosedLoop.warmUp("Encrypt", 16, timing, cpu, calls.encrypt());
    ClosedLoop.warmUp("Decrypt", 16, timing, cpu, calls.decrypt(100));
    ClosedLoop.warmUp("GenerateDataKey", 16, timing, cpu, calls.generateDataKey());
    System.out.println("(b) service over gRPC on loopback, server in a child JVM, 1 key");
    List<Point> encrypt = encrypt(calls);
    var decrypt = calls.decrypt(DECRYPT_SET);
    for (int c : CONCURRENCIES) {
      results.add(ClosedLoop.run("service", "Decrypt", c, 1, timing, cpu, decrypt));
    }
    for (int c : CONCURRENCIES) {
      results.add(
          ClosedLoop.run("service", "GenerateDataKey", c, 1, timing, cpu, calls.generateDataKey()));
    }
    // BatchEncrypt: calls/s in the table, items/s (and the ratio to the direct loop) below.
    ClosedLoop.run("warm-up", "BatchEncrypt", 4, 1, warm, cpu, calls.batchEncrypt(BATCH_ITEMS));
    Point batch =
        ClosedLoop.run(
            "batch",
            "BatchEncrypt x" + BATCH_ITEMS,
            BATCH_IN_FLIGHT,
            1,
            timing,
            cpu,
            calls.batchEncrypt(BATCH_ITEMS));
    results.add(batch);
    Point peak = peak(encrypt);
    Point directBest = direct.stream().max(Comparator.comparingDouble(Point::opsPerSecond)).get();
    double ratio = peak.opsPerSecond() / directBest.opsPerSecond();
    double items = batch.opsPerSecond() * BATCH_ITEMS;
    results.summary(
        "BatchEncrypt items/s (" + BATCH_IN_FLIGHT + " calls of " + BATCH_ITEMS + " in flight)",
        Math.round(items),
        "items/s",
        null,
        null);
    results.summary(
        "ratio BatchEncrypt items / direct", items / directBest.opsPerSecond(), "x", null, null);
    results.summary(
        "direct encrypt, best (" + directBest.concurrency() + " threads)",
        Math.round(directBest.opsPerSecond()),
        "ops/s",
        null,
        null);
    results.summary(
        "service Encrypt, best (" + peak.concurrency() + " in flight)",
        Math.round(peak.opsPerSecond()),
        "ops/s",
        null,
        null);
    results.summary("ratio service Encrypt / direct (b/a, shared cores)", ratio, "x", null, null);
    serviceCost(encrypt, direct);
    ceiling(calls, directBest);
    halfPeak(calls, peak);
    return peak.concurrency();
  }

  /**
   * Only what the p99 target needs, as a run of {@link #run} measures it: Encrypt warmed up, closed
   * loop at each concurrency (its peak), then at a fixed rate of half that peak, with the direct
   * loop's CPU per encrypt beside it (the machine's gauge). Returns the concurrency at which
   * Encrypt peaked.
   */
  int runHalfPeak(KmsCalls calls, List<Point> direct) throws InterruptedException {
    System.out.println("server warm-up");
    ClosedLoop.warmUntilCompiled("Encrypt", 16, timing, cpu, calls.encrypt());
    System.out.println("(b) service over gRPC on loopback, server in a child JVM, 1 key: Encrypt");
    Point peak = peak(encrypt(calls));
    results.summary(
        "service Encrypt, best (" + peak.concurrency() + " in flight)",
        Math.round(peak.opsPerSecond()),
        "ops/s",
        null,
        null);
    halfPeak(calls, peak);
    Point token = at(direct, SERVICE_COST_DIRECT_THREADS);
    results.summary(
        "direct encrypt, CPU per encrypt at " + SERVICE_COST_DIRECT_THREADS + " threads",
        Math.round(token.clientCpuMicrosPerCall()),
        "us",
        null,
        null);
    return peak.concurrency();
  }

  /** Encrypt closed loop at each of {@link #CONCURRENCIES}, added to the results. */
  private List<Point> encrypt(KmsCalls calls) throws InterruptedException {
    List<Point> encrypt = new ArrayList<>();
    for (int c : CONCURRENCIES) {
      Point p = ClosedLoop.run("service", "Encrypt", c, 1, timing, cpu, calls.encrypt());
      results.add(p);
      encrypt.add(p);
    }
    return encrypt;
  }

  private static Point peak(List<Point> points) {
    return points.stream().max(Comparator.comparingDouble(Point::opsPerSecond)).get();
  }

  /** Encrypt at a fixed rate of half {@code peak}'s throughput, its p99 against the target. */
  private void halfPeak(KmsCalls calls, Point peak) throws InterruptedException {
    // The machine's own speed, with nothing in flight: what tells a slower machine from slower
    // code.
    MachineGauge.Figures gauge = MachineGauge.measure();
    System.out.println("  machine gauge: " + gauge);
    double rate = peak.opsPerSecond() / 2;
    System.out.printf(Locale.ROOT, "  Encrypt at a fixed %.0f calls/s (half the peak)%n", rate);
    Instant measured = Instant.now().plus(timing.warmup());
    SlowCalls slow = new SlowCalls(TAIL_TARGET, timing.sampleCapacity() / 10);
    Point half = OpenLoop.run("half-peak", "Encrypt", 1, rate, timing, cpu, slow, calls.encrypt());
    Instant ended = Instant.now();
    results.add(half);
    results.summary(
        String.format(Locale.ROOT, "Encrypt p99 at half peak (%.0f/s)", rate),
        half.p99Millis(),
        "ms",
        "<= 5 ms",
        half.p99Millis() <= 5);
    // What the tail has to do with the collectors: their pauses in the measured window.
    GcLog.Pauses server = GcLog.pauses(out.resolve(GcLog.SERVER), measured, ended);
    GcLog.Pauses client = GcLog.pauses(out.resolve(GcLog.CLIENT), measured, ended);
    results.summary(
        "GC pauses at half peak, server: " + server, server.longestMillis(), "ms", null, null);
    results.summary(
        "GC pauses at half peak, client: " + client, client.longestMillis(), "ms", null, null);
    slow.write(out.resolve(SLOW_CALLS), measured);
    // Which of the calls over the target a pause explains: due during one or just after it.
    List<GcLog.Pause> serverPauses =
        GcLog.list(out.resolve(GcLog.SERVER), measured.minus(TAIL_TARGET), ended);
    List<GcLog.Pause> clientPauses =
        GcLog.list(out.resolve(GcLog.CLIENT), measured.minus(TAIL_TARGET), ended);
    List<GcLog.Pause> both = new ArrayList<>(serverPauses);
    both.addAll(clientPauses);
    for (var pauses :
        List.of(
            Map.entry("the server", serverPauses),
            Map.entry("the client", clientPauses),
            Map.entry("either JVM", both))) {
      SlowCalls.Share share = slow.nearPauses(pauses.getValue(), TAIL_TARGET, measured, ended);
      results.summary(
          "calls over 5 ms at half peak due in a GC pause of "
              + pauses.getKey()
              + " or 5 ms after one: "
              + share,
          Math.round(1000 * share.nearShare()) / 10.0,
          "%",
          null,
          null);
    }
    results.summary("machine gauge: SHA-256 of 4 KiB (CPU)", gauge.shaMicros(), "us", null, null);
    results.summary(
        "machine gauge: thread hand-off and back (CPU)", gauge.handOffMicros(), "us", null, null);
  }

  /**
   * The service's own CPU beside the token: what the server spends per Encrypt at {@link
   * #SERVICE_COST_IN_FLIGHT} in flight less what the token work costs per encrypt in the direct
   * loop at {@link #SERVICE_COST_DIRECT_THREADS} threads, both measured in this run. Unlike b/a it
   * does not count the client's CPU on the shared cores.
   */
  private void serviceCost(List<Point> encrypt, List<Point> direct) {
    Point service = at(encrypt, SERVICE_COST_IN_FLIGHT);
    Point token = at(direct, SERVICE_COST_DIRECT_THREADS);
    double cost = service.serverCpuMicrosPerCall() - token.clientCpuMicrosPerCall();
    results.summary(
        String.format(
            Locale.ROOT,
            "service cost (srv %.0f us at %d - direct %.0f us at %d)",
            service.serverCpuMicrosPerCall(),
            SERVICE_COST_IN_FLIGHT,
            token.clientCpuMicrosPerCall(),
            SERVICE_COST_DIRECT_THREADS),
        Math.round(cost),
        "us",
        "<= " + SERVICE_COST_TARGET_MICROS + " us",
        cost <= SERVICE_COST_TARGET_MICROS);
  }

  private static Point at(List<Point> points, int concurrency) {
    return points.stream()
        .filter(p -> p.concurrency() == concurrency)
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("no point at " + concurrency));
  }

  /**
   * What b/a can reach at most on this machine, measured: the server's cheapest call (a health
   * Check: transport, executor, interceptors; no store, no access check, no audit, no token) costs
   * client and server some CPU per call, and an Encrypt costs at least that plus the token work the
   * direct loop spends per encrypt. With both on these cores, Encrypt cannot exceed cores x 1 s /
   * (that sum).
   */
  private void ceiling(KmsCalls calls, Point directBest) throws InterruptedException {
    ClosedLoop.run("warm-up", "health Check", 16, 1, warm, cpu, calls.healthCheck());
    Point floor =
        ClosedLoop.run(
            "floor", "health Check", BATCH_IN_FLIGHT, 1, timing, cpu, calls.healthCheck());
    results.add(floor);
    double floorMicros = floor.clientCpuMicrosPerCall() + floor.serverCpuMicrosPerCall();
    double tokenMicros = directBest.clientCpuMicrosPerCall();
    int cores = Runtime.getRuntime().availableProcessors();
    double ceiling = cores * 1e6 / (tokenMicros + floorMicros);
    results.summary(
        String.format(
            Locale.ROOT,
            "CPU per call: direct encrypt %.0f us, health Check %.0f us",
            tokenMicros,
            floorMicros),
        tokenMicros + floorMicros,
        "us",
        null,
        null);
    results.summary(
        "ceiling of b/a here (" + cores + " cores / that sum)",
        ceiling / directBest.opsPerSecond(),
        "x",
        null,
        null);
  }
}
