package io.p11kms.bench;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The server as users run it ({@code Main serve}, the same classpath as run.sh) in a JVM of its
 * own, so that its resident memory is its own and not the benchmark client's. Its output goes to a
 * log file; its metrics endpoint is on a free loopback port, for the backing key cache's counters,
 * and its AWS KMS JSON API on another.
 */
final class ServerChild implements AutoCloseable {
  private static final Duration START_LIMIT = Duration.ofSeconds(120);
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private final Process process;
  private final int port;
  private final int metricsPort;
  private final int awsPort;
  private final Duration startToServing;
  private final String malloc;

  private ServerChild(
      Process process,
      int port,
      int metricsPort,
      int awsPort,
      Duration startToServing,
      String malloc) {
    this.process = process;
    this.port = port;
    this.metricsPort = metricsPort;
    this.awsPort = awsPort;
    this.startToServing = startToServing;
    this.malloc = malloc;
  }

  /** The adapter's backing key cache counters, from the server's metrics endpoint. */
  record CacheCounters(long hits, long misses, long recycles) {
    /** Hits per lookup from {@code before} to this, NaN when none. */
    double hitRateSince(CacheCounters before) {
      long h = hits - before.hits;
      long m = misses - before.misses;
      return h + m == 0 ? Double.NaN : (double) h / (h + m);
    }
  }

  /**
   * Starts the server on {@code config} (whose {@code listen.port} is rewritten to a free port) and
   * returns once its health service answers SERVING; the time from just before the process starts
   * to that answer is {@link #startToServing()}.
   */
  static ServerChild start(
      Path config, Path softhsmConf, String classpath, List<String> jvmOptions, Path log)
      throws IOException, InterruptedException {
    int port = freePort();
    int metricsPort = freePort();
    int awsPort = freePort();
    setPorts(config, port, metricsPort, awsPort);
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.addAll(
        List.of(
            "-cp",
            classpath,
            "io.p11kms.server.Main",
            "serve",
            "--config",
            config.toString(),
            // As run.sh: the token set-up names no TLS files.
            "--dev"));
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    if (java.nio.file.Files.exists(softhsmConf)) {
      builder.environment().put("SOFTHSM2_CONF", softhsmConf.toString());
    }
    String malloc = RunScript.preloadMalloc(builder.environment());
    long start = System.nanoTime();
    Process process = builder.start();
    try {
      awaitServing(process, port, start);
    } catch (IOException | RuntimeException | InterruptedException e) {
      process.destroyForcibly();
      throw e;
    }
    return new ServerChild(
        process, port, metricsPort, awsPort, Duration.ofNanos(System.nanoTime() - start), malloc);
  }

  private static void awaitServing(Process process, int port, long start)
      throws IOException, InterruptedException {
    long deadline = start + START_LIMIT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("server exited with " + process.exitValue() + "; see log");
      }
      // A plain connect first: a channel to a closed port backs off for a second or more.
      if (accepts(port) && serving(port)) {
        return;
      }
      Thread.sleep(5);
    }
    throw new IllegalStateException("server not SERVING after " + START_LIMIT);
  }

  private static boolean accepts(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean serving(int port) throws InterruptedException {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      return HealthGrpc.newBlockingStub(channel)
              .withDeadlineAfter(2, TimeUnit.SECONDS)
              .check(HealthCheckRequest.getDefaultInstance())
              .getStatus()
          == ServingStatus.SERVING;
    } catch (RuntimeException e) {
      return false;
    } finally {
      channel.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static void setPorts(Path config, int port, int metricsPort, int awsPort)
      throws IOException {
    List<String> lines = new ArrayList<>();
    for (String line : Files.readAllLines(config)) {
      if (!line.startsWith("metrics.listen.port=") && !line.startsWith("aws.listen.port=")) {
        lines.add(line.startsWith("listen.port=") ? "listen.port=" + port : line);
      }
    }
    lines.add("metrics.listen.port=" + metricsPort);
    lines.add("aws.listen.port=" + awsPort);
    Files.write(config, lines);
  }

  /**
   * The backing key cache's hit and miss counts and the library recycles so far, scraped from
   * {@code /metrics}.
   */
  CacheCounters cacheCounters() throws IOException, InterruptedException {
    String metrics = scrape();
    long hits = (long) counter(metrics, "p11kms_hsm_cache_hits_total", -1);
    long misses = (long) counter(metrics, "p11kms_hsm_cache_misses_total", -1);
    long recycles = (long) counter(metrics, "p11kms_hsm_library_recycles_total", 0);
    if (hits < 0 || misses < 0) {
      throw new IllegalStateException("no backing key cache counters in the server's metrics");
    }
    return new CacheCounters(hits, misses, recycles);
  }

  /**
   * The heap bytes the server's JVM allocated since it started, scraped from {@code /metrics}; -1
   * when the endpoint does not answer or has no such counter.
   */
  long allocatedBytes() {
    try {
      return (long) counter(scrape(), "p11kms_jvm_allocated_bytes_total", -1);
    } catch (IOException | RuntimeException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private String scrape() throws IOException, InterruptedException {
    return HTTP.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  /** The value of the unlabelled counter {@code name} in a scrape, else {@code absent}. */
  private static double counter(String metrics, String name, double absent) {
    for (String line : metrics.split("\n")) {
      if (line.startsWith(name + " ")) {
        return Double.parseDouble(line.substring(line.indexOf(' ') + 1).trim());
      }
    }
    return absent;
  }

  long pid() {
    return process.pid();
  }

  int port() {
    return port;
  }

  /** The port of the AWS KMS JSON API (plaintext on loopback, development mode). */
  int awsPort() {
    return awsPort;
  }

  /** The server's malloc: jemalloc preloaded as run.sh does, or glibc's. */
  String malloc() {
    return malloc;
  }

  Duration startToServing() {
    return startToServing;
  }

  /** VmRSS of the server process, in KiB, from /proc. */
  long residentKiB() {
    return procStatus("VmRSS:");
  }

  /** VmHWM (peak resident size) of the server process, in KiB, from /proc. */
  long peakResidentKiB() {
    return procStatus("VmHWM:");
  }

  private long procStatus(String field) {
    try (InputStream in = Files.newInputStream(Path.of("/proc", "" + process.pid(), "status"))) {
      for (String line :
          new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).split("\n")) {
        if (line.startsWith(field)) {
          return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
        }
      }
      throw new IllegalStateException(field + " not in /proc/" + process.pid() + "/status");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** SIGTERM, as an operator would stop it, and wait. */
  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
