package io.p11kms.bench;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Start to SERVING, several times over: on an empty database (each start on a database of its own,
 * as a first start makes it) and on the data folder's database as it is (at 100,000 keys when the
 * folder holds them), alternated, each a new server as run.sh starts it. Prints each start, and
 * each kind's median and maximum; one start varies by tenths of a second on a busy machine.
 */
final class StartPoints {
  /** How many starts of each kind: the median of ten is what the target is checked against. */
  static final int STARTS = 10;

  private final Results results;
  private final Path config;
  private final Path softhsmConf;
  private final String classpath;
  private final Path outDir;

  StartPoints(Results results, Path config, Path softhsmConf, String classpath, Path outDir) {
    this.results = results;
    this.config = config;
    this.softhsmConf = softhsmConf;
    this.classpath = classpath;
    this.outDir = outDir;
  }

  /**
   * Runs {@link #STARTS} starts of each kind with {@code jvmOptions}; with {@code jfr}, each start
   * is recorded into {@code start-empty-N.jfr} or {@code start-keys-N.jfr} (the recording slows the
   * start down: for where it goes, not for its figure).
   */
  void run(List<String> jvmOptions, boolean jfr) throws IOException, InterruptedException {
    Path log = outDir.resolve("server.log");
    int keys = keyCount(jvmOptions, log);
    List<Start> empty = new ArrayList<>();
    List<Start> full = new ArrayList<>();
    System.out.printf(
        "start to SERVING, %d starts on an empty database and at %,d keys"
            + " (wall / the server's CPU / its main thread's CPU until SERVING)%n",
        STARTS, keys);
    for (int i = 1; i <= STARTS; i++) {
      Path folder = outDir.resolve("start-empty-" + i);
      empty.add(
          start(emptyDatabaseConfig(folder), options(jvmOptions, jfr, "start-empty-" + i), log));
      deleteTree(folder);
      full.add(start(config, options(jvmOptions, jfr, "start-keys-" + i), log));
      System.out.printf(
          "  start %2d: empty %s, at %,d keys %s, load average %s%n",
          i, empty.get(i - 1), keys, full.get(i - 1), Machine.loadAverage());
    }
    summarize("empty database", empty);
    summarize("at " + keys + " keys", full);
  }

  /** One start: wall time to SERVING, the server's CPU and its main thread's CPU until then. */
  record Start(long millis, long cpuMillis, long mainMillis) {
    @Override
    public String toString() {
      return String.format("%,5d / %,5d / %,5d ms", millis, cpuMillis, mainMillis);
    }
  }

  private void summarize(String what, List<Start> starts) {
    double median = median(starts.stream().map(Start::millis).toList());
    long max = starts.stream().mapToLong(Start::millis).max().orElseThrow();
    double cpu = median(starts.stream().map(Start::cpuMillis).toList());
    double main = median(starts.stream().map(Start::mainMillis).toList());
    System.out.printf(
        "  %s: median %,.0f ms, slowest %,d ms; CPU until SERVING median %,.0f ms, main thread"
            + " %,.0f ms%n",
        what, median, max, cpu, main);
    String name = "start to SERVING, " + what + ", ";
    int n = starts.size();
    results.summary(name + "median of " + n, median / 1000.0, "s", "<= 3 s", median <= 3000);
    results.summary(name + "slowest of " + n, max / 1000.0, "s", null, null);
    results.summary(name + "server CPU, median of " + n, cpu / 1000.0, "s", null, null);
    results.summary(name + "main thread CPU, median of " + n, main / 1000.0, "s", null, null);
  }

  private static double median(List<Long> values) {
    List<Long> sorted = values.stream().sorted().toList();
    return (sorted.get((sorted.size() - 1) / 2) + sorted.get(sorted.size() / 2)) / 2.0;
  }

  private static void deleteTree(Path folder) throws IOException {
    try (var paths = Files.walk(folder)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private Start start(Path serverConfig, List<String> jvmOptions, Path log)
      throws IOException, InterruptedException {
    try (ServerChild server =
        ServerChild.start(serverConfig, softhsmConf, classpath, jvmOptions, log)) {
      CpuMeter cpu = new CpuMeter(server.pid());
      return new Start(
          server.startToServing().toMillis(),
          cpu.serverNanos() / 1_000_000,
          cpu.serverMainThreadNanos() / 1_000_000);
    }
  }

  /** The keys of the data folder's database, counted by a server started for it. */
  private int keyCount(List<String> jvmOptions, Path log) throws IOException, InterruptedException {
    try (ServerChild server = ServerChild.start(config, softhsmConf, classpath, jvmOptions, log)) {
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
      try {
        return new KmsCalls(channel, Bench.PLAINTEXT_BYTES).listExistingKeys();
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  private List<String> options(List<String> jvmOptions, boolean jfr, String name) {
    if (!jfr) {
      return jvmOptions;
    }
    List<String> recorded = new ArrayList<>(jvmOptions);
    recorded.add(
        "-XX:StartFlightRecording=filename="
            + outDir.resolve(name + ".jfr")
            + ",settings=profile,dumponexit=true");
    return recorded;
  }

  /**
   * The data folder's configuration, in {@code folder} of its own, with a database there that does
   * not exist yet: the start makes it, as a first start does; its audit log and development
   * credentials go there too. The token is the data folder's.
   */
  private Path emptyDatabaseConfig(Path folder) throws IOException {
    Files.createDirectories(folder);
    Path base = config.getParent();
    List<String> lines = new ArrayList<>();
    for (String line : Files.readAllLines(config)) {
      if (line.startsWith("store.jdbc.url=")) {
        lines.add("store.jdbc.url=jdbc:sqlite:" + folder.resolve("p11kms.db").toAbsolutePath());
      } else if (line.startsWith("hsm.pin.file=")) {
        String pinFile = line.substring("hsm.pin.file=".length());
        lines.add("hsm.pin.file=" + base.resolve(pinFile).toAbsolutePath());
      } else {
        lines.add(line);
      }
    }
    Path copy = folder.resolve("p11kms.properties");
    Files.write(copy, lines);
    return copy;
  }
}
