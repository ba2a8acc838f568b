package io.p11kms.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The command line of {@link Bench}. */
record BenchOptions(
    Path dataDir,
    Path outDir,
    boolean quick,
    boolean jfr,
    String jfrSettings,
    List<String> serverJvmOptions,
    String serverClasspath) {

  static BenchOptions parse(String[] args) {
    Path data = null;
    Path out = null;
    boolean quick = false;
    boolean jfr = false;
    String jfrSettings = "profile";
    List<String> jvm = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--data" -> data = Path.of(value(args, ++i, "--data"));
        case "--out" -> out = Path.of(value(args, ++i, "--out"));
        case "--quick" -> quick = true;
        case "--jfr" -> jfr = true;
        case "--jfr-settings" -> jfrSettings = value(args, ++i, "--jfr-settings");
        case "--server-jvm-option" -> jvm.add(value(args, ++i, "--server-jvm-option"));
        default ->
            throw new IllegalArgumentException(
                "unknown argument '"
                    + args[i]
                    + "'; usage: Bench --data DIR --out DIR [--quick]"
                    + " [--jfr] [--jfr-settings NAME|FILE] [--server-jvm-option OPT]...");
      }
    }
    if (data == null || out == null) {
      throw new IllegalArgumentException("--data and --out are required");
    }
    String classpath = System.getenv("P11KMS_CLASSPATH");
    if (classpath == null || classpath.isBlank()) {
      throw new IllegalArgumentException("set P11KMS_CLASSPATH to the server's classpath");
    }
    // SoftHSM2 reads its configuration file once per process (NSS softoken reads none).
    if (Files.exists(data.resolve("softhsm2.conf")) && System.getenv("SOFTHSM2_CONF") == null) {
      throw new IllegalArgumentException(
          "set SOFTHSM2_CONF to DATA/softhsm2.conf before the JVM starts");
    }
    return new BenchOptions(
        data.toAbsolutePath(),
        out.toAbsolutePath(),
        quick,
        jfr,
        jfrSettings,
        List.copyOf(jvm),
        classpath);
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[i];
  }
}
