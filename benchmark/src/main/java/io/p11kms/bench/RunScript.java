package io.p11kms.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** What run.sh starts the server with, so that the benchmark measures the same server. */
final class RunScript {
  /** Keep equal to the default of P11KMS_JAVA_OPTS in run.sh. */
  static final List<String> SERVER_JVM_OPTIONS =
      List.of("-XX:+UseParallelGC", "-Xms128m", "-Xmn64m", "-Xmx128m");

  /** Keep equal to the default of MALLOC_CONF in run.sh: jemalloc's options. */
  static final String JEMALLOC_OPTIONS = "narenas:1";

  /** Where run.sh looks for Debian's jemalloc; keep equal to its {@code jemalloc} function. */
  private static final String JEMALLOC = "libjemalloc.so.2";

  private RunScript() {}

  /**
   * Preloads jemalloc into the server's environment as run.sh does, with run.sh's {@code
   * MALLOC_CONF} unless the environment sets one, unless {@code P11KMS_MALLOC} is {@code glibc};
   * returns the allocator the server runs on, for the report.
   */
  static String preloadMalloc(Map<String, String> environment) throws IOException {
    if ("glibc".equals(System.getenv("P11KMS_MALLOC"))) {
      return "glibc";
    }
    Optional<Path> jemalloc = jemalloc();
    if (jemalloc.isEmpty()) {
      return "glibc (no " + JEMALLOC + " installed)";
    }
    String preload = environment.get("LD_PRELOAD");
    environment.put(
        "LD_PRELOAD", jemalloc.get() + (preload == null || preload.isEmpty() ? "" : ":" + preload));
    String options = environment.computeIfAbsent("MALLOC_CONF", unset -> JEMALLOC_OPTIONS);
    return "jemalloc (MALLOC_CONF=" + options + ")";
  }

  private static Optional<Path> jemalloc() throws IOException {
    try (DirectoryStream<Path> dirs =
        Files.newDirectoryStream(Path.of("/usr/lib"), "*-linux-gnu")) {
      for (Path dir : dirs) {
        Path candidate = dir.resolve(JEMALLOC);
        if (Files.exists(candidate)) {
          return Optional.of(candidate);
        }
      }
    }
    Path lib64 = Path.of("/usr/lib64", JEMALLOC);
    return Files.exists(lib64) ? Optional.of(lib64) : Optional.empty();
  }
}
