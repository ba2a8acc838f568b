package io.p11kms.bench;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.p11kms.server.config.ServerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The benchmark, run by {@code ./bench.sh}: (a) the adapter's encrypt loop, straight on the token;
 * (b) Encrypt, Decrypt and GenerateDataKey over gRPC on loopback to a server in a child JVM, closed
 * loop at several concurrencies, plus Encrypt at a fixed rate of half the peak and BatchEncrypt
 * (100 items a call, 64 calls in flight, reported in items/s); (c) throughput as the key count
 * grows; (d) the server's resident memory and its start-to-SERVING time. Prints a table and writes
 * CSV files, SVG charts and a text report to the output folder.
 *
 * <p>Usage: {@code Bench --data DIR --out DIR [--quick] [--jfr] [--server-jvm-option OPT]...}. DIR
 * is a set-up made by {@code softhsm-config/init-token.sh} (SoftHSM2, whose {@code softhsm2.conf}
 * {@code SOFTHSM2_CONF} must name: SoftHSM2 reads it once per process) or by {@code
 * softhsm-config/init-nss-token.sh} (NSS softoken); {@code P11KMS_CLASSPATH} names the server's
 * classpath. The report names the token.
 */
public final class Bench {
  static final int PLAINTEXT_BYTES = 256;
  static final int[] DIRECT_THREADS = {1, 2, 4};
  static final int[] CONCURRENCIES = {1, 4, 16, 64};
  static final int DECRYPT_SET = 1_000;

  /**
   * The most ciphertexts point (c) makes for its Decrypt: at 100,000 keys, up to 18,000 distinct
   * keys, far more than the backing key cache holds, so its Decrypt pays the unwrap as a random key
   * per call does (a set of 1,000 fit the cache and measured 1,000 keys).
   */
  static final int KEYS_DECRYPT_SET_MAX = 20_000;

  static final int SERVICE_COST_IN_FLIGHT = 64;
  static final int SERVICE_COST_DIRECT_THREADS = 4;
  static final int SERVICE_COST_TARGET_MICROS = 45;

  /** Zipf's exponent for the key-count points with a realistic key choice. */
  static final double ZIPF_EXPONENT = 1.0;

  /** The operation name of the Encrypt points with a Zipf key choice. */
  static final String ZIPF_ENCRYPT = "Encrypt Zipf(1.0)";

  static final int BATCH_ITEMS = 100;
  static final int BATCH_IN_FLIGHT = 64;
  static final int CREATE_IN_FLIGHT = 16;

  private final BenchOptions options;
  private final Results results = new Results();
  private CpuMeter cpu;
  private ServerChild server;

  private Bench(BenchOptions options) {
    this.options = options;
  }

  public static void main(String[] args) throws Exception {
    new Bench(BenchOptions.parse(args)).run();
    System.exit(0);
  }

  private void run() throws Exception {
    Timing timing = options.quick() ? Timing.QUICK : Timing.FULL;
    Path config = options.dataDir().resolve("p11kms.properties");
    Path softhsmConf = options.dataDir().resolve("softhsm2.conf");
    Files.createDirectories(options.outDir());
    ServerConfig serverConfig = ServerConfig.load(config);
    String machine =
        Machine.describe(timing, options.quick(), serverConfig.hsmConfig().modulePath());
    System.out.println(machine);

    System.out.println("(a) direct: Pkcs11Hsm.encrypt in this JVM");
    System.out.println("  " + Results.header());
    List<Point> direct =
        DirectLoop.run(serverConfig.hsmConfig(), DIRECT_THREADS, PLAINTEXT_BYTES, timing);
    results.addAll(direct);

    List<String> jvmOptions = new ArrayList<>(options.serverJvmOptions());
    if (jvmOptions.stream().noneMatch(o -> o.startsWith("-Xmx"))) {
      // The heap run.sh gives the server: without a cap the JVM sizes it from the machine's RAM.
      jvmOptions.addAll(0, RunScript.SERVER_JVM_OPTIONS);
    }
    // The restart measures start-up and memory as run.sh runs the server: same heap, no recording.
    List<String> restartOptions = List.copyOf(jvmOptions);
    if (options.jfr()) {
      jvmOptions.add(
          "-XX:StartFlightRecording=filename="
              + options.outDir().resolve("server.jfr")
              + ",settings="
              + options.jfrSettings()
              + ",dumponexit=true");
    }
    int xksPort = ServerChild.freePort();
    var xksCredential = XksCalls.prepare(config, options.serverClasspath(), xksPort);
    Path log = options.outDir().resolve("server.log");
    Duration firstStart;
    long residentKiB;
    long peakKiB;
    int keys;
    try (ServerChild server =
        ServerChild.start(config, softhsmConf, options.serverClasspath(), jvmOptions, log)) {
      this.server = server;
      firstStart = server.startToServing();
      cpu = new CpuMeter(server.pid());
      System.out.printf(
          "server pid started, SERVING after %d ms, resident %,d KiB%n",
          firstStart.toMillis(), server.residentKiB());
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port())
              .usePlaintext()
              .directExecutor()
              .build();
      try {
        KmsCalls calls = new KmsCalls(channel, PLAINTEXT_BYTES);
        calls.createKeysUpTo(1, 1);
        int best = serviceAndHalfPeak(calls, timing, direct);
        xksEncrypt(
            XksCalls.on(
                channel,
                config,
                options.serverClasspath(),
                xksPort,
                xksCredential,
                PLAINTEXT_BYTES),
            timing);
        keys = keyCounts(calls, timing, best);
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      residentKiB = server.residentKiB();
      peakKiB = server.peakResidentKiB();
    }
    System.out.printf(
        "server at %,d keys: resident %,d KiB (peak %,d KiB)%n", keys, residentKiB, peakKiB);
    Duration restart;
    long restartKiB;
    try (ServerChild server =
        ServerChild.start(config, softhsmConf, options.serverClasspath(), restartOptions, log)) {
      restart = server.startToServing();
      restartKiB = server.residentKiB();
    }
    System.out.printf(
        "restart at %,d keys: SERVING after %d ms, resident %,d KiB%n",
        keys, restart.toMillis(), restartKiB);

    boolean full = keys >= 100_000;
    double mib = residentKiB / 1024.0;
    results.summary(
        "server resident memory at " + keys + " keys (VmRSS)",
        Math.round(mib),
        "MiB",
        "<= 512 MiB at 100,000 keys",
        full ? mib <= 512 : null);
    results.summary(
        "server peak resident memory (VmHWM)", Math.round(peakKiB / 1024.0), "MiB", null, null);
    results.summary(
        "server resident memory just after restart",
        Math.round(restartKiB / 1024.0),
        "MiB",
        null,
        null);
    results.summary(
        "start to SERVING, empty database",
        firstStart.toMillis() / 1000.0,
        "s",
        "<= 3 s",
        firstStart.toMillis() <= 3000);
    results.summary(
        "start to SERVING at " + keys + " keys",
        restart.toMillis() / 1000.0,
        "s",
        "<= 3 s",
        restart.toMillis() <= 3000);

    machine += "; load average at the end " + Machine.loadAverage();
    String report = results.report(machine);
    System.out.println();
    System.out.println(report);
    results.write(options.outDir(), machine);
    System.out.println("results in " + options.outDir());
  }

  /**
   * The XKS proxy API's Encrypt at 16 in flight, as AWS KMS calls it (signed JSON over HTTP),
   * against the 250 ms AWS KMS gives a proxy.
   */
  private void xksEncrypt(XksCalls xks, Timing timing) throws InterruptedException {
    Timing warm = new Timing(Duration.ZERO, timing.serverWarmup());
    System.out.println("(x) the XKS proxy API: Encrypt, SigV4-signed JSON over HTTP/1.1");
    ClosedLoop.run("warm-up", "XksEncrypt", 16, 1, warm, cpu, xks.encrypt());
    Point p = ClosedLoop.run("xks", "XksEncrypt", 16, 1, timing, cpu, xks.encrypt());
    System.out.println("  " + Results.row(p));
    results.add(p);
    results.summary(
        "XKS Encrypt p99 at 16 in flight", p.p99Millis(), "ms", "< 10 ms", p.p99Millis() < 10);
  }

  /** (b) and the fixed-rate run; returns the concurrency at which Encrypt peaked. */
  private int serviceAndHalfPeak(KmsCalls calls, Timing timing, List<Point> direct)
      throws InterruptedException {
    // The server's JIT is cold: C2 took a quarter of the server's CPU in the first seconds of an
    // unwarmed run. Warm every operation before the first measured point.
    Timing warm = new Timing(Duration.ZERO, timing.serverWarmup());
    System.out.printf("server warm-up: %d s per operation%n", timing.serverWarmup().toSeconds());
    ClosedLoop.run("warm-up", "Encrypt", 16, 1, warm, cpu, calls.encrypt());
    ClosedLoop.run("warm-up", "Decrypt", 16, 1, warm, cpu, calls.decrypt(100));
    ClosedLoop.run("warm-up", "GenerateDataKey", 16, 1, warm, cpu, calls.generateDataKey());
    System.out.println("(b) service over gRPC on loopback, server in a child JVM, 1 key");
    List<Point> encrypt = new ArrayList<>();
    for (int c : CONCURRENCIES) {
      Point p = ClosedLoop.run("service", "Encrypt", c, 1, timing, cpu, calls.encrypt());
      results.add(p);
      encrypt.add(p);
    }
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
    Point peak = encrypt.stream().max(Comparator.comparingDouble(Point::opsPerSecond)).get();
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
    ceiling(calls, timing, warm, directBest);

    double rate = peak.opsPerSecond() / 2;
    System.out.printf(Locale.ROOT, "  Encrypt at a fixed %.0f calls/s (half the peak)%n", rate);
    Point half = OpenLoop.run("half-peak", "Encrypt", 1, rate, timing, cpu, calls.encrypt());
    results.add(half);
    results.summary(
        String.format(Locale.ROOT, "Encrypt p99 at half peak (%.0f/s)", rate),
        half.p99Millis(),
        "ms",
        "<= 5 ms",
        half.p99Millis() <= 5);
    return peak.concurrency();
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
  private void ceiling(KmsCalls calls, Timing timing, Timing warm, Point directBest)
      throws InterruptedException {
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

  /**
   * (c): as keys are added, Encrypt and Decrypt with a key picked uniformly at random per call, and
   * Encrypt with a key picked by a Zipf law (a few hot keys, a long tail); returns the key count.
   */
  private int keyCounts(KmsCalls calls, Timing timing, int concurrency)
      throws IOException, InterruptedException {
    System.out.printf(
        "(c) key count, a key per call uniformly or by Zipf(%.1f), %d in flight%n",
        ZIPF_EXPONENT, concurrency);
    int[] counts = options.quick() ? new int[] {1, 1_000} : new int[] {1, 1_000, 100_000};
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
      Point p = ClosedLoop.run("keys", "Encrypt", concurrency, count, timing, cpu, calls.encrypt());
      results.add(p);
      cacheHitRate(p, counters);
      int decryptSet = Math.max(DECRYPT_SET, Math.min(count, KEYS_DECRYPT_SET_MAX));
      results.add(
          ClosedLoop.run(
              "keys", "Decrypt", concurrency, count, timing, cpu, calls.decrypt(decryptSet)));
      if (count > 1) {
        KeyChoice zipf = KeyChoice.zipf(calls.keyCount(), ZIPF_EXPONENT);
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
}
