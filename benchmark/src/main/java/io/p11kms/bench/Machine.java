package io.p11kms.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A one-paragraph description of where and how the run happened. */
final class Machine {
  private Machine() {}

  static String describe(Timing timing, boolean quick, Path tokenLibrary) {
    return String.format(
        "p11kms benchmark%s: %d cores (client and server share them), %s, Java %s, %s;"
            + " %d s warm-up + %d s measured per point; %d-byte plaintext; load average at start %s",
        quick ? " (--quick)" : "",
        Runtime.getRuntime().availableProcessors(),
        cpuModel(),
        System.getProperty("java.version"),
        token(tokenLibrary),
        timing.warmup().toSeconds(),
        timing.measure().toSeconds(),
        Bench.PLAINTEXT_BYTES,
        loadAverage());
  }

  /** The 1-minute load average, from /proc/loadavg. */
  static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static String cpuModel() {
    try {
      return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
          .filter(l -> l.startsWith("model name"))
          .map(l -> l.substring(l.indexOf(':') + 1).trim())
          .findFirst()
          .orElse("unknown CPU");
    } catch (IOException e) {
      return "unknown CPU";
    }
  }

  /** SoftHSM2 and its version, or the token library's file name (NSS softoken: libsoftokn3.so). */
  private static String token(Path library) {
    String name = library.getFileName().toString();
    return name.contains("softhsm") ? "SoftHSM2 " + softHsmVersion() : "token library " + name;
  }

  private static String softHsmVersion() {
    try {
      Process p =
          new ProcessBuilder("softhsm2-util", "--version").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      p.waitFor(10, TimeUnit.SECONDS);
      return out.isEmpty() ? "unknown" : out;
    } catch (IOException e) {
      return "unknown";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown";
    }
  }
}
