package io.p11kms.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The command line of {@link Bench}.
 *
 * @param only the groups of server points to run ({@link #SERVICE}, {@link #FRONT_ENDS}, {@link
 *     #KEYS}, {@link #HALF_PEAK}); empty for all of them but {@link #HALF_PEAK} (which {@link
 *     #SERVICE} includes) and the restart, as a run for the record makes
 */
record BenchOptions(
    Path dataDir,
    Path outDir,
    boolean quick,
    boolean jfr,
    String jfrSettings,
    List<String> serverJvmOptions,
    String serverClasspath,
    Set<String> only) {
  static final String SERVICE = "service";
  static final String FRONT_ENDS = "frontends";
  static final String KEYS = "keys";

  /** Encrypt's peak and the half-peak point alone: the p99 target, affordable to repeat. */
  static final String HALF_PEAK = "halfpeak";

  private static final Set<String> GROUPS = Set.of(SERVICE, FRONT_ENDS, KEYS, HALF_PEAK);

  /** Whether the server points of {@code group} run. */
  boolean runs(String group) {
    return only.isEmpty() ? !group.equals(HALF_PEAK) : only.contains(group);
  }

  /** Whether only some groups run (no restart then: its figures need the whole run). */
  boolean onlySome() {
    return !only.isEmpty();
  }

  static BenchOptions parse(String[] args) {
    Path data = null;
    Path out = null;
    boolean quick = false;
    boolean jfr = false;
    String jfrSettings = "profile";
    List<String> jvm = new ArrayList<>();
    Set<String> only = new HashSet<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--data" -> data = Path.of(value(args, ++i, "--data"));
        case "--out" -> out = Path.of(value(args, ++i, "--out"));
        case "--quick" -> quick = true;
        case "--jfr" -> jfr = true;
        case "--jfr-settings" -> jfrSettings = value(args, ++i, "--jfr-settings");
        case "--server-jvm-option" -> jvm.add(value(args, ++i, "--server-jvm-option"));
        case "--only" -> {
          String group = value(args, ++i, "--only");
          if (!GROUPS.contains(group)) {
            throw new IllegalArgumentException("--only takes one of " + GROUPS + ", not " + group);
          }
          only.add(group);
        }
        default ->
            throw new IllegalArgumentException(
                "unknown argument '"
                    + args[i]
                    + "'; usage: Bench --data DIR --out DIR [--quick]"
                    + " [--jfr] [--jfr-settings NAME|FILE] [--server-jvm-option OPT]..."
                    + " [--only service|frontends|keys|halfpeak]...");
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
        classpath,
        Set.copyOf(only));
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[i];
  }
}
