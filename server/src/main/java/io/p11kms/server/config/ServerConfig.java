package io.p11kms.server.config;

import java.nio.file.Path;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * The server's configuration, read from a properties file, validated when built and printed
 * redacted: one validated record per part, each read from its keys. Relative paths (module, PIN
 * file, SQLite file) resolve against the configuration file's folder. A key under a prefix this
 * class owns that no part reads is a typo, and refused. See {@code p11kms.example.properties} for
 * every key.
 *
 * @param listen the gRPC listener ({@code listen.*})
 * @param hsm the token ({@code hsm.*})
 * @param store the key store ({@code store.*})
 * @param arns the key ARNs' partition, region and account ({@code arn.*})
 * @param tasks the scheduled work ({@code tasks.*})
 * @param region the peer regions and the peer listener ({@code region.*}; {@link RegionConfig#NONE}
 *     without them)
 */
public record ServerConfig(
    ListenConfig listen,
    TokenConfig hsm,
    StoreConfig store,
    KeyArns arns,
    TasksConfig tasks,
    RegionConfig region) {

  public static final String LISTEN_HOST = "listen.host";
  public static final String LISTEN_PORT = "listen.port";
  public static final String HSM_MODULE = "hsm.module";
  public static final String HSM_TOKEN_LABEL = "hsm.token.label";
  public static final String HSM_PIN_FILE = "hsm.pin.file";
  public static final String HSM_PIN_ENV = "hsm.pin.env";
  public static final String HSM_SESSION_POOL_SIZE = "hsm.session.pool.size";
  public static final String HSM_SESSION_BORROW_TIMEOUT_MS = "hsm.session.borrow.timeout.ms";
  public static final String HSM_CALL_TIMEOUT_MS = "hsm.call.timeout.ms";
  public static final String HSM_CACHE_MAX_KEYS = "hsm.cache.max.keys";
  public static final String HSM_CACHE_MAX_AGE_MS = "hsm.cache.max.age.ms";
  public static final String HSM_REOPEN_INTERVAL_MS = "hsm.reopen.interval.ms";
  public static final String HSM_HEALTH_INTERVAL_MS = "hsm.health.interval.ms";
  public static final String HSM_LIBRARY_RECYCLE_OBJECTS = "hsm.library.recycle.objects";
  public static final String HSM_MODULE_INIT_STRING = "hsm.module.init.string";
  public static final String HSM_CUSTODY_UNENFORCED_ALLOWED = "hsm.custody.unenforced.allowed";
  public static final String STORE_JDBC_URL = "store.jdbc.url";
  public static final String STORE_JDBC_USER = "store.jdbc.user";
  public static final String STORE_JDBC_PASSWORD_FILE = "store.jdbc.password.file";
  public static final String STORE_JDBC_PASSWORD_ENV = "store.jdbc.password.env";
  public static final String STORE_CACHE_MAX_KEYS = "store.cache.max.keys";
  public static final String ARN_PARTITION = "arn.partition";
  public static final String ARN_REGION = "arn.region";
  public static final String ARN_ACCOUNT = "arn.account";
  public static final String TASKS_INTERVAL_MS = "tasks.interval.ms";
  // Read by the server's domain-key rotation schedule; named here so that a typo is refused.
  public static final String ROTATION_DOMAIN_SO_PIN_FILE = "rotation.domain.so.pin.file";
  public static final String ROTATION_DOMAIN_INTERVAL_HOURS = "rotation.domain.interval.hours";

  /** Every key this class reads, and those of {@link SecurityConfig}. */
  public static final Set<String> KEYS =
      union(
          union(
              SecurityConfig.KEYS,
              MetricsConfig.METRICS_LISTEN_HOST,
              MetricsConfig.METRICS_LISTEN_PORT),
          LISTEN_HOST,
          LISTEN_PORT,
          HSM_MODULE,
          HSM_TOKEN_LABEL,
          HSM_PIN_FILE,
          HSM_PIN_ENV,
          HSM_SESSION_POOL_SIZE,
          HSM_SESSION_BORROW_TIMEOUT_MS,
          HSM_CALL_TIMEOUT_MS,
          HSM_CACHE_MAX_KEYS,
          HSM_CACHE_MAX_AGE_MS,
          HSM_REOPEN_INTERVAL_MS,
          HSM_HEALTH_INTERVAL_MS,
          HSM_LIBRARY_RECYCLE_OBJECTS,
          HSM_MODULE_INIT_STRING,
          HSM_CUSTODY_UNENFORCED_ALLOWED,
          STORE_JDBC_URL,
          STORE_JDBC_USER,
          STORE_JDBC_PASSWORD_FILE,
          STORE_JDBC_PASSWORD_ENV,
          STORE_CACHE_MAX_KEYS,
          ARN_PARTITION,
          ARN_REGION,
          ARN_ACCOUNT,
          TASKS_INTERVAL_MS,
          ROTATION_DOMAIN_SO_PIN_FILE,
          ROTATION_DOMAIN_INTERVAL_HOURS);

  private static Set<String> union(Set<String> more, String... keys) {
    Set<String> all = new TreeSet<>(more);
    all.addAll(Set.of(keys));
    return Set.copyOf(all);
  }

  /**
   * Key prefixes this class owns: a key under one of them that is not in {@link #KEYS} is a typo
   * and rejected. Keys under other prefixes are left to other readers.
   */
  public static final Set<String> OWNED_PREFIXES =
      Set.of(
          "listen.",
          "hsm.",
          "store.",
          "arn.",
          "tls.",
          "auth.",
          "audit.",
          "metrics.",
          "rotation.",
          "tasks.",
          "region.",
          "dev.");

  public ServerConfig {
    if (listen == null
        || hsm == null
        || store == null
        || arns == null
        || tasks == null
        || region == null) {
      throw new ConfigException("every part of the server configuration is required");
    }
  }

  /** Reads a properties file (UTF-8); relative paths resolve against its folder. */
  public static ServerConfig load(Path file) {
    return from(ConfigProperties.load(file));
  }

  /**
   * Builds a configuration from properties; relative paths resolve against {@code baseDir}. A blank
   * value counts as absent.
   */
  public static ServerConfig fromProperties(Properties p, Path baseDir) {
    return from(new ConfigProperties(p, baseDir));
  }

  /** Builds a configuration from the properties of a file. */
  public static ServerConfig from(ConfigProperties p) {
    rejectUnknownKeys(p);
    return new ServerConfig(
        ListenConfig.from(p),
        TokenConfig.from(p),
        StoreConfig.from(p),
        KeyArns.from(p),
        TasksConfig.from(p),
        RegionConfig.from(p));
  }

  /**
   * Every setting, for a start-up log line: the PIN source is named (file or variable), never read;
   * a password in the JDBC URL is masked.
   */
  public String toRedactedString() {
    return "ServerConfig{"
        + listen.redacted()
        + ", "
        + hsm.redacted()
        + ", "
        + tasks.redacted()
        + ", "
        + store.redacted()
        + ", "
        + arns.redacted()
        + ", "
        + region.redacted()
        + "}";
  }

  @Override
  public String toString() {
    return toRedactedString();
  }

  private static void rejectUnknownKeys(ConfigProperties p) {
    Set<String> unknown = new TreeSet<>();
    for (String key : p.properties().stringPropertyNames()) {
      if (!KEYS.contains(key)
          && !RegionConfig.knows(key, p)
          && OWNED_PREFIXES.stream().anyMatch(key::startsWith)) {
        unknown.add(key);
      }
    }
    if (!unknown.isEmpty()) {
      String first = unknown.iterator().next();
      String hint =
          first.startsWith("hsm.pin")
              ? " (the PIN itself never goes here: use " + HSM_PIN_FILE + " or " + HSM_PIN_ENV + ")"
              : "";
      throw new ConfigException("unknown configuration key " + first + hint);
    }
  }
}
