package io.p11kms.server;

import io.p11kms.server.config.ConfigException;
import io.p11kms.server.config.ConfigProperties;
import io.p11kms.server.config.ServerConfig;
import io.p11kms.server.service.DomainKeyRewrap;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's own domain-key rotation, on a schedule, for operators who give it an SO PIN source
 * ({@value #SO_PIN_FILE}); off without one.
 *
 * <p>Each rotation runs {@code p11kms rotate-domain-key --create-only} in a short child JVM: the
 * security officer's login cannot share the server's process with the user's login on SoftHSM2
 * (CKR_USER_ANOTHER_ALREADY_LOGGED_IN), and the SO PIN is then read, used and wiped in a process
 * that lives for seconds. The server itself then re-wraps every EKT to the new generation ({@link
 * DomainKeyRewrap}) while it keeps serving.
 */
public final class DomainKeyRotationSchedule {
  private static final Logger log = LoggerFactory.getLogger(DomainKeyRotationSchedule.class);

  /** The file holding the SO PIN, relative to the configuration file's folder; unset: off. */
  public static final String SO_PIN_FILE = ServerConfig.ROTATION_DOMAIN_SO_PIN_FILE;

  /** Hours between domain-key rotations; default 24 (daily). */
  public static final String INTERVAL_HOURS = ServerConfig.ROTATION_DOMAIN_INTERVAL_HOURS;

  static final Duration DEFAULT_INTERVAL = Duration.ofHours(24);
  private static final Pattern CREATED = Pattern.compile("created domain-key/(\\d+)");
  private static final long CHILD_TIMEOUT_SECONDS = 120;

  /** The two settings; {@code soPinFile} empty means the schedule is off. */
  public record Settings(Optional<Path> soPinFile, Duration interval) {}

  private final Path configFile;
  private final Path soPinFile;
  private final Supplier<DomainKeyRewrap.Result> rewrap;

  public DomainKeyRotationSchedule(
      Path configFile, Path soPinFile, Supplier<DomainKeyRewrap.Result> rewrap) {
    this.configFile = configFile;
    this.soPinFile = soPinFile;
    this.rewrap = rewrap;
  }

  /** Reads the settings from the server's properties file. */
  public static Settings load(Path configFile) {
    return from(ConfigProperties.load(configFile));
  }

  /** Reads the settings from the server's properties. */
  public static Settings from(ConfigProperties p) {
    String pin = p.get(SO_PIN_FILE, null);
    Optional<Path> soPin =
        pin == null ? Optional.empty() : Optional.of(p.resolve(SO_PIN_FILE, pin));
    String hours = p.get(INTERVAL_HOURS, null);
    Duration interval = DEFAULT_INTERVAL;
    if (hours != null) {
      try {
        interval = Duration.ofHours(Long.parseLong(hours));
      } catch (NumberFormatException e) {
        throw new ConfigException(INTERVAL_HOURS + " must be an integer, was '" + hours + "'");
      }
      if (interval.toHours() < 1) {
        throw new ConfigException(INTERVAL_HOURS + " must be at least 1, was " + hours);
      }
    }
    return new Settings(soPin, interval);
  }

  /** Creates generation N+1 (in a child JVM, as the SO), then re-wraps every EKT to it. */
  public DomainKeyRewrap.Result rotate() {
    int generation = createNextGeneration();
    log.info("domain-key/{} created; re-wrapping the EKTs", generation);
    return rewrap.get();
  }

  int createNextGeneration() {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder builder =
        new ProcessBuilder(
                java.toString(),
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "rotate-domain-key",
                "--config",
                configFile.toAbsolutePath().toString(),
                "--so-pin-file",
                soPinFile.toAbsolutePath().toString(),
                "--create-only")
            .redirectErrorStream(true);
    try {
      Process child = builder.start();
      // Output is small (a few log lines); read it all, then wait.
      String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!child.waitFor(CHILD_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        child.destroyForcibly();
        throw new IllegalStateException("the domain key ceremony did not finish in time");
      }
      Matcher m = CREATED.matcher(output);
      if (child.exitValue() != 0 || !m.find()) {
        throw new IllegalStateException(
            "the domain key ceremony failed with exit code " + child.exitValue());
      }
      return Integer.parseInt(m.group(1));
    } catch (IOException e) {
      throw new IllegalStateException("cannot run the domain key ceremony: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted during the domain key ceremony", e);
    }
  }
}
