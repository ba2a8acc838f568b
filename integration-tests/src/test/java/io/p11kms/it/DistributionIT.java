package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The distribution the build makes ({@code server/target/p11kms-<version>/bin/p11kms}), run as a
 * user runs it: a child process calling a real server. Skipped when the server module was not
 * packaged in this build (e.g. {@code -pl integration-tests} alone).
 */
class DistributionIT {
  private static Path script() throws IOException {
    Path target = Path.of("..", "server", "target").toAbsolutePath().normalize();
    if (!Files.isDirectory(target)) {
      return null;
    }
    try (Stream<Path> dirs = Files.list(target)) {
      return dirs.filter(d -> d.getFileName().toString().startsWith("p11kms-"))
          .map(d -> d.resolve("bin").resolve("p11kms"))
          .filter(Files::isExecutable)
          .findFirst()
          .orElse(null);
    }
  }

  private record Result(int exitCode, String out) {}

  private static Result run(Path script, String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of(script.toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
    Process process = builder.start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Result(process.exitValue(), out);
  }

  @Test
  void distributionScript_runsTheClientAgainstARealServer() throws Exception {
    Path script = script();
    assumeTrue(script != null, "server distribution not built in this run");

    Result help = run(script, "--help");
    assertThat(help.exitCode()).isZero();
    assertThat(help.out()).contains("serve", "doctor", "export-store", "import-store", "kms");

    try (KmsTestServer server = KmsTestServer.start()) {
      Result created =
          run(
              script,
              "kms",
              "create-key",
              "--description",
              "from the distribution",
              "--endpoint",
              server.channel().authority());
      assertThat(created.exitCode()).as(created.out()).isZero();
      assertThat(created.out()).contains("\"keyId\"", "from the distribution");
    }
  }
}
