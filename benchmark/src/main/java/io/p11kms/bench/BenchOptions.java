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
 *     #KEYS}, {@link #HALF_PEAK}, {@link #START}); empty for all of them but {@link #HALF_PEAK}
 *     (which {@link #SERVICE} includes) and {@link #START}, and the restart, as a run for the
 *     record makes
 * @param keyCounts the key counts of the key-count points, ascending; empty for the default (1,
 *     1,000 and 100,000; 1 and 1,000 with {@code quick})
 */
record BenchOptions(
    Path dataDir,
    Path outDir,
    boolean quick,
    boolean jfr,
    String jfrSettings,
    List<String> serverJvmOptions,
    String serverClasspath,
    Set<String> only,
    List<Integer> keyCounts) {
  static final String SERVICE = "service";
  static final String FRONT_ENDS = "frontends";
  static final String KEYS = "keys";

  /** Encrypt's peak and the half-peak point alone: the p99 target, affordable to repeat. */
  static final String HALF_PEAK = "halfpeak";

  /** Start to SERVING, {@link StartPoints#STARTS} times on an empty database and on the data's. */
  static final String START = "start";

  private static final Set<String> GROUPS = Set.of(SERVICE, FRONT_ENDS, KEYS, HALF_PEAK, START);

  /** Whether the server points of {@code group} run. */
  boolean runs(String group) {
    return only.isEmpty() ? !group.equals(HALF_PEAK) && !group.equals(START) : only.contains(group);
  }

  /** Whether only some groups run (no restart then: its figures need the whole run). */
  boolean onlySome() {
    return !only.isEmpty();
  }

  /** The key counts of the key-count points. */
  int[] keyCounts(boolean quickRun) {
    if (!keyCounts.isEmpty()) {
      return keyCounts.stream().mapToInt(Integer::intValue).toArray();
    }
    return quickRun ? new int[] {1, 1_000} : new int[] {1, 1_000, 100_000};
  }

  static BenchOptions parse(String[] args) {
    Path data = null;
    Path out = null;
    boolean quick = false;
    boolean jfr = false;
    String jfrSettings = "profile";
    List<String> jvm = new ArrayList<>();
    Set<String> only = new HashSet<>();
    List<Integer> keyCounts = new ArrayList<>();
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
        case "--keys" -> keyCounts = keyCounts(value(args, ++i, "--keys"));
        default ->
            throw new IllegalArgumentException(
                "unknown argument '"
                    + args[i]
                    + "'; usage: Bench --data DIR --out DIR [--quick]"
                    + " [--jfr] [--jfr-settings NAME|FILE] [--server-jvm-option OPT]..."
                    + " [--only service|frontends|keys|halfpeak|start]... [--keys N,N...]");
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
        Set.copyOf(only),
        List.copyOf(keyCounts));
  }

  /** A comma-separated list of key counts, ascending, starting at 1 (the ratios' base). */
  private static List<Integer> keyCounts(String list) {
    List<Integer> counts = new ArrayList<>();
    for (String part : list.split(",")) {
      int count = Integer.parseInt(part.trim().replace("_", ""));
      if (counts.isEmpty() ? count != 1 : count <= counts.get(counts.size() - 1)) {
        throw new IllegalArgumentException(
            "--keys takes ascending key counts starting at 1, as 1,100000; not " + list);
      }
      counts.add(count);
    }
    return counts;
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[i];
  }
}
