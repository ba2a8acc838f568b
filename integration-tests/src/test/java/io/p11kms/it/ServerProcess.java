package io.p11kms.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server as users run it: a separate JVM started with {@code Main serve}, on a token made by
 * the real {@code softhsm-config/init-token.sh}. Its output goes to a log file in the data folder.
 */
final class ServerProcess implements AutoCloseable {
  private static final Pattern LISTENING = Pattern.compile("p11kms listening on ([^:]+):(\\d+)");

  private final Process process;
  private final int port;
  private final List<String> startLines;

  private ServerProcess(Process process, Started started) {
    this.process = process;
    this.port = started.port();
    this.startLines = started.lines();
  }

  /** The gRPC port and what the server printed before it, in order. */
  private record Started(int port, List<String> lines) {}

  /** Runs the token set-up script into {@code dataDir}, as run.sh does. */
  static void initToken(Path dataDir) throws Exception {
    initToken(dataDir, false);
  }

  /**
   * Runs the token set-up script into {@code dataDir}; with {@code joining}, as for a server that
   * joins a deployment ({@code P11KMS_JOIN=1}: no domain key, the domain join brings it).
   */
  static void initToken(Path dataDir, boolean joining) throws Exception {
    ProcessBuilder builder =
        new ProcessBuilder(
                repoRoot().resolve("softhsm-config/init-token.sh").toString(),
                dataDir.toString(),
                "p11kms-it")
            .redirectErrorStream(true)
            .redirectOutput(dataDir.resolveSibling(dataDir.getFileName() + "-init.log").toFile());
    builder.environment().put("P11KMS_CLASSPATH", System.getProperty("java.class.path"));
    builder.environment().put("P11KMS_PORT", "0");
    if (joining) {
      builder.environment().put("P11KMS_JOIN", "1");
    }
    Process init = builder.start();
    if (!init.waitFor(120, TimeUnit.SECONDS) || init.exitValue() != 0) {
      init.destroyForcibly();
      throw new IllegalStateException(
          "init-token.sh failed: "
              + Files.readString(dataDir.resolveSibling(dataDir.getFileName() + "-init.log")));
    }
  }

  /**
   * Starts {@code Main serve --dev} on the set-up in {@code dataDir}, as run.sh does (the token
   * set-up names no TLS files, so it is development mode, asked for); returns once it listens.
   */
  static ServerProcess start(Path dataDir) throws Exception {
    Process process = launch(dataDir, "--dev");
    CompletableFuture<Started> started =
        CompletableFuture.supplyAsync(() -> awaitListening(process));
    try {
      return new ServerProcess(process, started.get(60, TimeUnit.SECONDS));
    } catch (Exception e) {
      process.destroyForcibly();
      throw new IllegalStateException("server did not start: " + Files.readString(log(dataDir)), e);
    }
  }

  /**
   * Starts {@code Main serve --config <dataDir>/p11kms.properties} with {@code options}; its stderr
   * (the log) is appended to {@link #log(Path)}, its stdout is the returned process's.
   */
  static Process launch(Path dataDir, String... options) throws IOException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    List<String> command =
        new java.util.ArrayList<>(
            List.of(
                java.toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "io.p11kms.server.Main",
                "serve",
                "--config",
                dataDir.resolve("p11kms.properties").toString()));
    command.addAll(List.of(options));
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectError(ProcessBuilder.Redirect.appendTo(log(dataDir).toFile()));
    builder.environment().put("SOFTHSM2_CONF", dataDir.resolve("softhsm2.conf").toString());
    return builder.start();
  }

  /** The server's log (its stderr) for the set-up in {@code dataDir}. */
  static Path log(Path dataDir) {
    return dataDir.resolve("server.log");
  }

  private static Started awaitListening(Process process) {
    try {
      BufferedReader out =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      List<String> lines = new java.util.ArrayList<>();
      String line;
      while ((line = out.readLine()) != null) {
        lines.add(line);
        Matcher m = LISTENING.matcher(line);
        if (m.find()) {
          // Keep draining stdout so the server never blocks on a full pipe.
          Thread drain = new Thread(() -> out.lines().forEach(l -> {}));
          drain.setDaemon(true);
          drain.start();
          return new Started(Integer.parseInt(m.group(2)), List.copyOf(lines));
        }
      }
      throw new IllegalStateException("server exited before listening");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static Path repoRoot() {
    return Path.of(System.getProperty("p11kms.repo.root", "..")).toAbsolutePath().normalize();
  }

  int port() {
    return port;
  }

  /** The lines the server printed up to and including the one saying it listens. */
  List<String> startLines() {
    return startLines;
  }

  /** Stops the server as an operator would (SIGTERM) and waits for it to exit. */
  int stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
    return process.exitValue();
  }

  /** Kills the server with SIGKILL (no shutdown hook runs) and waits until it is gone. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws Exception {
    if (process.isAlive()) {
      stop();
    }
  }
}
