package io.p11kms.bench;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.p11kms.server.awsjson.DevelopmentCredentials;
import io.p11kms.server.config.ServerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The benchmark, run by {@code ./bench.sh}: (a) the adapter's encrypt loop, straight on the token;
 * (b) Encrypt, Decrypt and GenerateDataKey over gRPC on loopback to a server in a child JVM, closed
 * loop at several concurrencies, plus Encrypt at a fixed rate of half the peak and BatchEncrypt
 * (100 items a call, 64 calls in flight, reported in items/s); (x) Encrypt over the HTTP front
 * ends: the AWS KMS JSON API beside gRPC, and the XKS proxy API; (c) throughput as the key count
 * grows; (d) the server's resident memory and its start-to-SERVING time. Prints a table and writes
 * CSV files, SVG charts and a text report to the output folder.
 *
 * <p>Usage: {@code Bench --data DIR --out DIR [--quick] [--jfr] [--server-jvm-option OPT]...
 * [--only GROUP]...}. DIR is a set-up made by {@code softhsm-config/init-token.sh} (SoftHSM2, whose
 * {@code softhsm2.conf} {@code SOFTHSM2_CONF} must name: SoftHSM2 reads it once per process) or by
 * {@code softhsm-config/init-nss-token.sh} (NSS softoken); {@code P11KMS_CLASSPATH} names the
 * server's classpath. The report names the token.
 */
public final class Bench {
  static final int PLAINTEXT_BYTES = 256;
  static final int[] DIRECT_THREADS = {1, 2, 4};

  private final BenchOptions options;
  private final Results results = new Results();

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
        Machine.describe(timing, options.quick(), serverConfig.hsm().hsmConfig().modulePath());
    System.out.println(machine);

    if (options.runs(BenchOptions.START)) {
      // As run.sh starts the server: its heap, no GC log. No direct loop: nothing compares with it.
      List<String> startOptions = new ArrayList<>(options.serverJvmOptions());
      if (startOptions.stream().noneMatch(o -> o.startsWith("-Xmx"))) {
        startOptions.addAll(0, RunScript.SERVER_JVM_OPTIONS);
      }
      new StartPoints(results, config, softhsmConf, options.serverClasspath(), options.outDir())
          .run(startOptions, options.jfr());
      if (options.only().size() == 1) {
        finish(machine);
        return;
      }
    }
    // Every run, whatever its groups, begins as a full run does: the direct loop, before the
    // server starts. Its CPU per encrypt, in this JVM and untouched by the server's code, also
    // tells runs on a slower machine from runs of slower code.
    System.out.println("(a) direct: Pkcs11Hsm.encrypt in this JVM");
    System.out.println("  " + Results.header());
    List<Point> direct =
        DirectLoop.run(serverConfig.hsm().hsmConfig(), DIRECT_THREADS, PLAINTEXT_BYTES, timing);
    results.addAll(direct);

    List<String> jvmOptions = new ArrayList<>(options.serverJvmOptions());
    if (jvmOptions.stream().noneMatch(o -> o.startsWith("-Xmx"))) {
      // The heap run.sh gives the server: without a cap the JVM sizes it from the machine's RAM.
      jvmOptions.addAll(0, RunScript.SERVER_JVM_OPTIONS);
    }
    // The restart measures start-up and memory as run.sh runs the server: same heap, no recording.
    List<String> restartOptions = List.copyOf(jvmOptions);
    jvmOptions.add(GcLog.option(options.outDir().resolve(GcLog.SERVER)));
    if (options.jfr()) {
      jvmOptions.add(
          "-XX:StartFlightRecording=filename="
              + options.outDir().resolve("server.jfr")
              + ",settings="
              + options.jfrSettings()
              + ",dumponexit=true");
    }
    int xksPort = ServerChild.freePort();
    // Only for the front-end points.
    var xksAccess =
        options.runs(BenchOptions.FRONT_ENDS)
            ? XksCalls.prepare(config, options.serverClasspath(), xksPort)
            : null;
    Path log = options.outDir().resolve("server.log");
    Duration firstStart;
    long residentKiB;
    long peakKiB;
    int keys;
    try (ServerChild server =
        ServerChild.start(config, softhsmConf, options.serverClasspath(), jvmOptions, log)) {
      firstStart = server.startToServing();
      CpuMeter cpu = new CpuMeter(server.pid(), server::allocatedBytes);
      System.out.printf(
          "server pid started, SERVING after %d ms, resident %,d KiB, malloc %s%n",
          firstStart.toMillis(), server.residentKiB(), server.malloc());
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port())
              .usePlaintext()
              .directExecutor()
              .build();
      try {
        KmsCalls calls = new KmsCalls(channel, PLAINTEXT_BYTES);
        int existing = calls.listExistingKeys();
        if (existing > 0) {
          System.out.printf("reusing the %,d keys of the database%n", existing);
        }
        calls.createKeysUpTo(1, 1);
        int best = ServicePoints.SERVICE_COST_IN_FLIGHT;
        if (options.runs(BenchOptions.SERVICE)) {
          best = new ServicePoints(results, cpu, timing, options.outDir()).run(calls, direct);
        } else if (options.runs(BenchOptions.HALF_PEAK)) {
          best =
              new ServicePoints(results, cpu, timing, options.outDir()).runHalfPeak(calls, direct);
        }
        if (options.runs(BenchOptions.FRONT_ENDS)) {
          FrontEndPoints frontEnds = new FrontEndPoints(results, cpu, timing);
          frontEnds.awsJson(
              AwsJsonCalls.on(
                  server.awsPort(),
                  serverConfig.arns().region(),
                  options.dataDir().resolve(DevelopmentCredentials.FILE_NAME)),
              calls,
              PLAINTEXT_BYTES);
          frontEnds.xks(
              XksCalls.on(
                  channel, config, options.serverClasspath(), xksPort, xksAccess, PLAINTEXT_BYTES));
        }
        if (options.runs(BenchOptions.KEYS)) {
          if (!options.runs(BenchOptions.SERVICE)) {
            // The server's JIT is cold: warm the paths as the service points would have, Encrypt
            // until its compilers settle (the one-key point is the key-count ratios' base: a
            // warm-up of 20,000 calls on a busy machine left the compilers 28% of its CPU).
            System.out.println("server warm-up");
            ClosedLoop.warmUntilCompiled(
                "Encrypt", 16, timing, cpu, calls.encrypt(KeyChoice.uniform(1)));
            ClosedLoop.warmUp("Decrypt", 16, timing, cpu, calls.decrypt(100, 1));
          }
          new KeyCountPoints(results, cpu, timing, server)
              .run(calls, options.keyCounts(options.quick()), best);
        }
        keys = calls.keyCount();
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      residentKiB = server.residentKiB();
      peakKiB = server.peakResidentKiB();
    }
    System.out.printf(
        "server at %,d keys: resident %,d KiB (peak %,d KiB)%n", keys, residentKiB, peakKiB);
    if (options.onlySome()) {
      finish(machine);
      return;
    }
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
    finish(machine);
  }

  /** Prints the table and the summary and writes the results folder. */
  private void finish(String machine) throws IOException {
    machine += "; load average at the end " + Machine.loadAverage();
    String report = results.report(machine);
    System.out.println();
    System.out.println(report);
    results.write(options.outDir(), machine);
    System.out.println("results in " + options.outDir());
  }
}
