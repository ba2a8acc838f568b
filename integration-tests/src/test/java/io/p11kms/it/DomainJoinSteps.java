package io.p11kms.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The domain join as an operator runs it between two data folders made by init-token.sh: {@code
 * p11kms domain-join begin} on the target, {@code export} on the source, {@code finish} on the
 * target, each a child JVM with that token's {@code SOFTHSM2_CONF} and SO PIN file. (DomainJoinIT
 * proves, with a PKCS#11 spy, that these steps move the key only wrapped.)
 */
final class DomainJoinSteps {
  private DomainJoinSteps() {}

  /** Gives the token in {@code target} the domain keys of the token in {@code source}. */
  static void join(Path work, Path source, Path target) throws Exception {
    Path transportKey = work.resolve("transport-key.pub");
    Path bundle = work.resolve("domain-keys.wrapped");
    String begun = step(target, "begin", "--out", transportKey.toString());
    String exported =
        step(
            source,
            "export",
            "--transport-key",
            transportKey.toString(),
            "--expect-fingerprint",
            fingerprintAfter("transport key ", begun),
            "--out",
            bundle.toString());
    step(
        target,
        "finish",
        "--in",
        bundle.toString(),
        "--expect-fingerprint",
        fingerprintAfter("bundle ", exported));
  }

  /**
   * The fingerprint a step printed after {@code prefix}: what one operator reads to the other, here
   * passed on as the next step's {@code --expect-fingerprint}.
   */
  private static String fingerprintAfter(String prefix, String output) {
    Matcher m = Pattern.compile("(?m)^" + prefix + "(sha256:[0-9a-f]{64})").matcher(output);
    if (!m.find()) {
      throw new IllegalStateException("no fingerprint after '" + prefix + "' in: " + output);
    }
    return m.group(1);
  }

  /** One line per domain key on the token in {@code dataDir}: its label and every attribute. */
  static List<String> list(Path work, Path dataDir) throws Exception {
    return p11kms(work, dataDir, "domain-join", "list", "--config", config(dataDir))
        .lines()
        .filter(l -> l.startsWith("domain-key"))
        .toList();
  }

  private static String step(Path dataDir, String step, String... args) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                "domain-join",
                step,
                "--config",
                config(dataDir),
                "--so-pin-file",
                dataDir.resolve("so.pin").toString()));
    command.addAll(List.of(args));
    return p11kms(dataDir.getParent(), dataDir, command.toArray(String[]::new));
  }

  private static String config(Path dataDir) {
    return dataDir.resolve("p11kms.properties").toString();
  }

  /** {@code p11kms ARGS} in a child JVM on the token of {@code dataDir}; its standard output. */
  private static String p11kms(Path work, Path dataDir, String... args) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                // A short-lived command: the quick compiler only starts it sooner.
                "-XX:TieredStopAtLevel=1",
                "io.p11kms.server.Main"));
    command.addAll(List.of(args));
    Path out = Files.createTempFile(work, "p11kms-", ".out");
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
    builder.environment().put("SOFTHSM2_CONF", dataDir.resolve("softhsm2.conf").toString());
    Process process = builder.start();
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException("p11kms " + String.join(" ", args) + " timed out");
    }
    String output = Files.readString(out);
    if (process.exitValue() != 0) {
      throw new IllegalStateException(
          "p11kms " + args[0] + " " + args[1] + " failed (" + process.exitValue() + "): " + output);
    }
    return output;
  }
}
