package io.p11kms.server.config;

import io.p11kms.hsm.HsmConfig;
import io.p11kms.hsm.PinSource;
import io.p11kms.server.metrics.MetricsConfig;
import io.p11kms.server.store.StoreSettings;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The server's configuration, read from a properties file, validated when built and printed
 * redacted. Relative paths (module, PIN file, SQLite file) resolve against the configuration file's
 * folder. See {@code p11kms.example.properties} for every key.
 *
 * @param hsmPinFile the file holding the token user PIN; null when {@code hsmPinEnv} is set
 * @param hsmPinEnv the environment variable holding the PIN; null when {@code hsmPinFile} is set
 * @param hsmCallTimeout the deadline of one token call
 * @param hsmCacheMaxKeys unwrapped backing keys kept in the token, 0 for none
 * @param hsmCacheMaxAge how long an unwrapped backing key is kept
 * @param hsmReopenInterval the shortest time between two reopens of the token
 * @param hsmHealthInterval how often the health probe checks the token
 * @param storeUser the database user, or null (none, or in the URL)
 * @param storePasswordFile the file holding the database password, or null
 * @param storePasswordEnv the environment variable holding the database password, or null
 * @param tasksInterval how often the server looks for due key rotations and deletions
 * @param hsmLibraryRecycleObjects after how many objects made the PKCS#11 library is initialized
 *     afresh: 0 never, -1 ({@code auto}) only for a library that needs it (SoftHSM2)
 * @param hsmModuleInitString given to the PKCS#11 library in {@code C_Initialize}'s {@code
 *     pReserved}, empty for none (NSS softoken reads its database folder and token label there)
 * @param hsmAllowUnenforcedCustody whether to run on a token that does not enforce key custody (NSS
 *     softoken): for development and tests only
 */
public record ServerConfig(
    String listenHost,
    int listenPort,
    Path hsmModule,
    String hsmTokenLabel,
    Path hsmPinFile,
    String hsmPinEnv,
    int hsmSessionPoolSize,
    Duration hsmSessionBorrowTimeout,
    String storeJdbcUrl,
    String arnPartition,
    String arnRegion,
    String arnAccount,
    Duration hsmCallTimeout,
    int hsmCacheMaxKeys,
    Duration hsmCacheMaxAge,
    Duration hsmReopenInterval,
    Duration hsmHealthInterval,
    String storeUser,
    Path storePasswordFile,
    String storePasswordEnv,
    Duration tasksInterval,
    long hsmLibraryRecycleObjects,
    String hsmModuleInitString,
    boolean hsmAllowUnenforcedCustody) {

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
          "dev.");

  public static final String DEFAULT_LISTEN_HOST = "127.0.0.1";
  public static final int DEFAULT_LISTEN_PORT = 7443;
  public static final String DEFAULT_HSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so";
  public static final String DEFAULT_DATABASE_FILE = "p11kms.db";
  public static final String DEFAULT_ARN_PARTITION = "aws";
  public static final String DEFAULT_ARN_REGION = "local-1";
  public static final String DEFAULT_ARN_ACCOUNT = "000000000000";
  public static final int MAX_SESSION_POOL_SIZE = 1024;
  public static final long MAX_BORROW_TIMEOUT_MS = 600_000;
  public static final long MAX_CALL_TIMEOUT_MS = 600_000;
  public static final long MAX_CACHE_AGE_MS = 86_400_000;
  public static final long MAX_REOPEN_INTERVAL_MS = 600_000;
  public static final long MAX_HEALTH_INTERVAL_MS = 600_000;
  public static final Duration DEFAULT_HEALTH_INTERVAL = Duration.ofSeconds(1);
  public static final Duration DEFAULT_TASKS_INTERVAL = Duration.ofMinutes(1);
  public static final long MAX_TASKS_INTERVAL_MS = 3_600_000;

  private static final String SQLITE_PREFIX = "jdbc:sqlite:";
  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._:%\\[\\]-]{1,253}");
  private static final Pattern DATABASE_USER = Pattern.compile("[^\\s'\"]{1,63}");
  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,254}");
  private static final Pattern PARTITION = Pattern.compile("[a-z][a-z0-9-]{0,31}");
  private static final Pattern REGION = Pattern.compile("[a-z0-9][a-z0-9-]{0,31}");
  private static final Pattern ACCOUNT = Pattern.compile("[0-9]{12}");

  public ServerConfig {
    if (hsmModuleInitString == null) {
      hsmModuleInitString = "";
    }
    if (listenHost == null || !HOST.matcher(listenHost).matches()) {
      throw new ConfigException(LISTEN_HOST + " must be a host name or IP address");
    }
    if (listenPort < 0 || listenPort > 65535) {
      throw new ConfigException(LISTEN_PORT + " must be 0-65535, was " + listenPort);
    }
    if (hsmModule == null) {
      throw new ConfigException(HSM_MODULE + " is required");
    }
    if (hsmTokenLabel == null || hsmTokenLabel.isBlank()) {
      throw new ConfigException(HSM_TOKEN_LABEL + " is required");
    }
    int labelBytes = hsmTokenLabel.getBytes(StandardCharsets.UTF_8).length;
    if (labelBytes > 32) {
      throw new ConfigException(
          HSM_TOKEN_LABEL + " must be at most 32 bytes in UTF-8, was " + labelBytes);
    }
    if ((hsmPinFile == null) == (hsmPinEnv == null)) {
      throw new ConfigException(
          "exactly one of "
              + HSM_PIN_FILE
              + " and "
              + HSM_PIN_ENV
              + " is required, "
              + (hsmPinFile == null ? "neither" : "both")
              + " given");
    }
    // Never echo a PIN source value: someone may have put the PIN itself there.
    if (hsmPinEnv != null && !ENV_NAME.matcher(hsmPinEnv).matches()) {
      throw new ConfigException(
          HSM_PIN_ENV + " must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
    }
    if (hsmSessionPoolSize < 1 || hsmSessionPoolSize > MAX_SESSION_POOL_SIZE) {
      throw new ConfigException(
          HSM_SESSION_POOL_SIZE
              + " must be 1-"
              + MAX_SESSION_POOL_SIZE
              + ", was "
              + hsmSessionPoolSize);
    }
    if (hsmSessionBorrowTimeout == null
        || hsmSessionBorrowTimeout.toMillis() < 1
        || hsmSessionBorrowTimeout.toMillis() > MAX_BORROW_TIMEOUT_MS) {
      throw new ConfigException(
          HSM_SESSION_BORROW_TIMEOUT_MS
              + " must be 1-"
              + MAX_BORROW_TIMEOUT_MS
              + ", was "
              + (hsmSessionBorrowTimeout == null ? null : hsmSessionBorrowTimeout.toMillis()));
    }
    if (storeJdbcUrl == null || !storeJdbcUrl.startsWith("jdbc:") || storeJdbcUrl.length() < 6) {
      // Not echoed: a JDBC URL may carry a password.
      throw new ConfigException(STORE_JDBC_URL + " must be a JDBC URL (jdbc:...)");
    }
    checkArnPartition(arnPartition);
    checkArnRegion(arnRegion);
    checkArnAccount(arnAccount);
    checkMillis(HSM_CALL_TIMEOUT_MS, hsmCallTimeout, 1, MAX_CALL_TIMEOUT_MS);
    if (hsmCacheMaxKeys < 0 || hsmCacheMaxKeys > HsmConfig.MAX_CACHE_MAX_KEYS) {
      throw new ConfigException(
          HSM_CACHE_MAX_KEYS
              + " must be 0-"
              + HsmConfig.MAX_CACHE_MAX_KEYS
              + ", was "
              + hsmCacheMaxKeys);
    }
    checkMillis(HSM_CACHE_MAX_AGE_MS, hsmCacheMaxAge, 1, MAX_CACHE_AGE_MS);
    checkMillis(HSM_REOPEN_INTERVAL_MS, hsmReopenInterval, 0, MAX_REOPEN_INTERVAL_MS);
    checkMillis(HSM_HEALTH_INTERVAL_MS, hsmHealthInterval, 100, MAX_HEALTH_INTERVAL_MS);
    checkMillis(TASKS_INTERVAL_MS, tasksInterval, 100, MAX_TASKS_INTERVAL_MS);
    if (hsmLibraryRecycleObjects != HsmConfig.LIBRARY_RECYCLE_AUTO
        && hsmLibraryRecycleObjects != 0
        && hsmLibraryRecycleObjects < HsmConfig.MIN_LIBRARY_RECYCLE_OBJECTS) {
      throw new ConfigException(
          HSM_LIBRARY_RECYCLE_OBJECTS
              + " must be auto, 0 or at least "
              + HsmConfig.MIN_LIBRARY_RECYCLE_OBJECTS
              + ", was "
              + hsmLibraryRecycleObjects);
    }
    if (storeUser != null && !DATABASE_USER.matcher(storeUser).matches()) {
      throw new ConfigException(STORE_JDBC_USER + " must be 1-63 characters, no spaces or quotes");
    }
    if (storePasswordFile != null && storePasswordEnv != null) {
      throw new ConfigException(
          "at most one of " + STORE_JDBC_PASSWORD_FILE + " and " + STORE_JDBC_PASSWORD_ENV);
    }
    // Never echoed, as the PIN source: someone may have put the password itself there.
    if (storePasswordEnv != null && !ENV_NAME.matcher(storePasswordEnv).matches()) {
      throw new ConfigException(
          STORE_JDBC_PASSWORD_ENV
              + " must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
    }
  }

  /**
   * As the canonical constructor, with no database user or password (SQLite, or in the URL) and the
   * default tasks interval.
   */
  public ServerConfig(
      String listenHost,
      int listenPort,
      Path hsmModule,
      String hsmTokenLabel,
      Path hsmPinFile,
      String hsmPinEnv,
      int hsmSessionPoolSize,
      Duration hsmSessionBorrowTimeout,
      String storeJdbcUrl,
      String arnPartition,
      String arnRegion,
      String arnAccount,
      Duration hsmCallTimeout,
      int hsmCacheMaxKeys,
      Duration hsmCacheMaxAge,
      Duration hsmReopenInterval,
      Duration hsmHealthInterval) {
    this(
        listenHost,
        listenPort,
        hsmModule,
        hsmTokenLabel,
        hsmPinFile,
        hsmPinEnv,
        hsmSessionPoolSize,
        hsmSessionBorrowTimeout,
        storeJdbcUrl,
        arnPartition,
        arnRegion,
        arnAccount,
        hsmCallTimeout,
        hsmCacheMaxKeys,
        hsmCacheMaxAge,
        hsmReopenInterval,
        hsmHealthInterval,
        null,
        null,
        null,
        DEFAULT_TASKS_INTERVAL,
        HsmConfig.LIBRARY_RECYCLE_AUTO,
        "",
        false);
  }

  /** As the canonical constructor, with the defaults for the token, health and tasks intervals. */
  public ServerConfig(
      String listenHost,
      int listenPort,
      Path hsmModule,
      String hsmTokenLabel,
      Path hsmPinFile,
      String hsmPinEnv,
      int hsmSessionPoolSize,
      Duration hsmSessionBorrowTimeout,
      String storeJdbcUrl,
      String arnPartition,
      String arnRegion,
      String arnAccount) {
    this(
        listenHost,
        listenPort,
        hsmModule,
        hsmTokenLabel,
        hsmPinFile,
        hsmPinEnv,
        hsmSessionPoolSize,
        hsmSessionBorrowTimeout,
        storeJdbcUrl,
        arnPartition,
        arnRegion,
        arnAccount,
        HsmConfig.DEFAULT_CALL_TIMEOUT,
        HsmConfig.DEFAULT_CACHE_MAX_KEYS,
        HsmConfig.DEFAULT_CACHE_MAX_AGE,
        HsmConfig.DEFAULT_REOPEN_INTERVAL,
        DEFAULT_HEALTH_INTERVAL);
  }

  private static void checkMillis(String key, Duration value, long min, long max) {
    if (value == null || value.toMillis() < min || value.toMillis() > max) {
      throw new ConfigException(
          key
              + " must be "
              + min
              + "-"
              + max
              + ", was "
              + (value == null ? null : value.toMillis()));
    }
  }

  /** Reads a properties file (UTF-8); relative paths resolve against its folder. */
  public static ServerConfig load(Path file) {
    if (file == null) {
      throw new ConfigException("a configuration file is required");
    }
    Properties p = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(in);
    } catch (IOException | IllegalArgumentException e) {
      throw new ConfigException(
          "cannot read configuration file " + file + ": " + e.getClass().getSimpleName(), e);
    }
    Path dir = file.toAbsolutePath().getParent();
    return fromProperties(p, dir);
  }

  /**
   * Builds a configuration from properties; relative paths resolve against {@code baseDir}. A blank
   * value counts as absent.
   */
  public static ServerConfig fromProperties(Properties p, Path baseDir) {
    if (p == null || baseDir == null) {
      throw new ConfigException("properties and a base folder are required");
    }
    Path base = baseDir.toAbsolutePath().normalize();
    rejectUnknownKeys(p);
    String pinFile = get(p, HSM_PIN_FILE, null);
    String jdbcUrl = get(p, STORE_JDBC_URL, null);
    String passwordFile = get(p, STORE_JDBC_PASSWORD_FILE, null);
    return new ServerConfig(
        get(p, LISTEN_HOST, DEFAULT_LISTEN_HOST),
        getInt(p, LISTEN_PORT, DEFAULT_LISTEN_PORT),
        path(base, HSM_MODULE, get(p, HSM_MODULE, DEFAULT_HSM_MODULE)),
        get(p, HSM_TOKEN_LABEL, null),
        pinFile == null ? null : path(base, HSM_PIN_FILE, pinFile),
        get(p, HSM_PIN_ENV, null),
        getInt(p, HSM_SESSION_POOL_SIZE, HsmConfig.DEFAULT_SESSION_POOL_SIZE),
        Duration.ofMillis(
            getInt(
                p,
                HSM_SESSION_BORROW_TIMEOUT_MS,
                (int) HsmConfig.DEFAULT_BORROW_TIMEOUT.toMillis())),
        jdbcUrl == null
            ? SQLITE_PREFIX + base.resolve(DEFAULT_DATABASE_FILE)
            : resolveSqliteUrl(base, jdbcUrl),
        get(p, ARN_PARTITION, DEFAULT_ARN_PARTITION),
        get(p, ARN_REGION, DEFAULT_ARN_REGION),
        get(p, ARN_ACCOUNT, DEFAULT_ARN_ACCOUNT),
        millis(p, HSM_CALL_TIMEOUT_MS, HsmConfig.DEFAULT_CALL_TIMEOUT),
        getInt(p, HSM_CACHE_MAX_KEYS, HsmConfig.DEFAULT_CACHE_MAX_KEYS),
        millis(p, HSM_CACHE_MAX_AGE_MS, HsmConfig.DEFAULT_CACHE_MAX_AGE),
        millis(p, HSM_REOPEN_INTERVAL_MS, HsmConfig.DEFAULT_REOPEN_INTERVAL),
        millis(p, HSM_HEALTH_INTERVAL_MS, DEFAULT_HEALTH_INTERVAL),
        get(p, STORE_JDBC_USER, null),
        passwordFile == null ? null : path(base, STORE_JDBC_PASSWORD_FILE, passwordFile),
        get(p, STORE_JDBC_PASSWORD_ENV, null),
        millis(p, TASKS_INTERVAL_MS, DEFAULT_TASKS_INTERVAL),
        libraryRecycle(p),
        get(p, HSM_MODULE_INIT_STRING, ""),
        bool(p, HSM_CUSTODY_UNENFORCED_ALLOWED));
  }

  private static boolean bool(Properties p, String key) {
    String value = get(p, key, "false");
    if (!value.equals("true") && !value.equals("false")) {
      throw new ConfigException(key + " must be true or false, was '" + value + "'");
    }
    return Boolean.parseBoolean(value);
  }

  private static Duration millis(Properties p, String key, Duration defaultValue) {
    String value = get(p, key, null);
    if (value == null) {
      return defaultValue;
    }
    try {
      return Duration.ofMillis(Long.parseLong(value));
    } catch (NumberFormatException e) {
      throw new ConfigException(key + " must be an integer, was '" + value + "'");
    }
  }

  /** The key store's JDBC URL: the same as {@link #storeJdbcUrl()}. */
  public String jdbcUrl() {
    return storeJdbcUrl;
  }

  /** Where the key store is and how to log in to it; no password is read here. */
  public StoreSettings storeSettings() {
    return new StoreSettings(storeJdbcUrl, storeUser, storePasswordFile, storePasswordEnv);
  }

  /** The token settings for {@code io.p11kms.hsm}. */
  public HsmConfig hsmConfig() {
    return new HsmConfig(
        hsmModule,
        hsmTokenLabel,
        pinSource(),
        hsmSessionPoolSize,
        hsmSessionBorrowTimeout,
        hsmCallTimeout,
        hsmCacheMaxKeys,
        hsmCacheMaxAge,
        hsmReopenInterval,
        hsmLibraryRecycleObjects,
        hsmModuleInitString,
        hsmAllowUnenforcedCustody);
  }

  /** Where the PIN comes from; nothing is read here. */
  public PinSource pinSource() {
    return hsmPinFile != null
        ? PinSource.fromFile(hsmPinFile)
        : PinSource.fromEnvironment(hsmPinEnv);
  }

  /** ARNs of this partition, region and account. */
  public KeyArns keyArns() {
    return new KeyArns(arnPartition, arnRegion, arnAccount);
  }

  /**
   * Every setting, for a start-up log line: the PIN source is named (file or variable), never read;
   * a password in the JDBC URL is masked.
   */
  public String toRedactedString() {
    return "ServerConfig{"
        + LISTEN_HOST
        + "="
        + listenHost
        + ", "
        + LISTEN_PORT
        + "="
        + listenPort
        + ", "
        + HSM_MODULE
        + "="
        + hsmModule
        + ", "
        + HSM_TOKEN_LABEL
        + "="
        + hsmTokenLabel
        + ", hsm.pin="
        + pinSource()
        + " (not shown), "
        + HSM_SESSION_POOL_SIZE
        + "="
        + hsmSessionPoolSize
        + ", "
        + HSM_SESSION_BORROW_TIMEOUT_MS
        + "="
        + hsmSessionBorrowTimeout.toMillis()
        + ", "
        + HSM_CALL_TIMEOUT_MS
        + "="
        + hsmCallTimeout.toMillis()
        + ", "
        + HSM_CACHE_MAX_KEYS
        + "="
        + hsmCacheMaxKeys
        + ", "
        + HSM_CACHE_MAX_AGE_MS
        + "="
        + hsmCacheMaxAge.toMillis()
        + ", "
        + HSM_REOPEN_INTERVAL_MS
        + "="
        + hsmReopenInterval.toMillis()
        + ", "
        + HSM_HEALTH_INTERVAL_MS
        + "="
        + hsmHealthInterval.toMillis()
        + ", "
        + HSM_LIBRARY_RECYCLE_OBJECTS
        + "="
        + (hsmLibraryRecycleObjects == HsmConfig.LIBRARY_RECYCLE_AUTO
            ? "auto"
            : hsmLibraryRecycleObjects)
        + (hsmModuleInitString == null || hsmModuleInitString.isEmpty()
            ? ""
            : ", " + HSM_MODULE_INIT_STRING + "=" + hsmModuleInitString)
        + (hsmAllowUnenforcedCustody ? ", " + HSM_CUSTODY_UNENFORCED_ALLOWED + "=true" : "")
        + ", "
        + TASKS_INTERVAL_MS
        + "="
        + tasksInterval.toMillis()
        + ", "
        + STORE_JDBC_URL
        + "="
        + redactJdbcUrl(storeJdbcUrl)
        + (storeUser == null ? "" : ", " + STORE_JDBC_USER + "=" + storeUser)
        + (storePasswordFile == null
            ? ""
            : ", store.jdbc.password=file:" + storePasswordFile + " (not shown)")
        + (storePasswordEnv == null
            ? ""
            : ", store.jdbc.password=env:" + storePasswordEnv + " (not shown)")
        + ", "
        + ARN_PARTITION
        + "="
        + arnPartition
        + ", "
        + ARN_REGION
        + "="
        + arnRegion
        + ", "
        + ARN_ACCOUNT
        + "="
        + arnAccount
        + "}";
  }

  @Override
  public String toString() {
    return toRedactedString();
  }

  static String redactJdbcUrl(String url) {
    return url.replaceAll("(?i)(password=)[^&;]*", "$1***")
        .replaceAll("(//[^/@:?]*):[^/@?]*@", "$1:***@");
  }

  static String checkArnPartition(String partition) {
    if (partition == null || !PARTITION.matcher(partition).matches()) {
      throw new ConfigException(
          ARN_PARTITION
              + " must be lower-case letters, digits and '-' (like aws), was "
              + partition);
    }
    return partition;
  }

  static String checkArnRegion(String region) {
    if (region == null || !REGION.matcher(region).matches()) {
      throw new ConfigException(
          ARN_REGION + " must be lower-case letters, digits and '-' (like local-1), was " + region);
    }
    return region;
  }

  static String checkArnAccount(String account) {
    if (account == null || !ACCOUNT.matcher(account).matches()) {
      throw new ConfigException(ARN_ACCOUNT + " must be 12 digits, was " + account);
    }
    return account;
  }

  private static void rejectUnknownKeys(Properties p) {
    Set<String> unknown = new TreeSet<>();
    for (String key : p.stringPropertyNames()) {
      if (!KEYS.contains(key) && OWNED_PREFIXES.stream().anyMatch(key::startsWith)) {
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

  private static String get(Properties p, String key, String defaultValue) {
    String value = p.getProperty(key);
    if (value == null || value.isBlank()) {
      return defaultValue;
    }
    return value.strip();
  }

  private static long libraryRecycle(Properties p) {
    String value = get(p, HSM_LIBRARY_RECYCLE_OBJECTS, "auto");
    if (value.equals("auto")) {
      return HsmConfig.LIBRARY_RECYCLE_AUTO;
    }
    try {
      long objects = Long.parseLong(value);
      if (objects < 0) {
        throw new NumberFormatException();
      }
      return objects;
    } catch (NumberFormatException e) {
      throw new ConfigException(
          HSM_LIBRARY_RECYCLE_OBJECTS + " must be auto or a count, was '" + value + "'");
    }
  }

  private static int getInt(Properties p, String key, int defaultValue) {
    String value = get(p, key, null);
    if (value == null) {
      return defaultValue;
    }
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new ConfigException(key + " must be an integer, was '" + value + "'");
    }
  }

  private static Path path(Path base, String key, String value) {
    try {
      return base.resolve(value).normalize();
    } catch (InvalidPathException e) {
      throw new ConfigException(key + " is not a valid path");
    }
  }

  /** A SQLite URL with a relative file path gets the path resolved; other URLs are unchanged. */
  private static String resolveSqliteUrl(Path base, String url) {
    if (!url.startsWith(SQLITE_PREFIX)) {
      return url;
    }
    String rest = url.substring(SQLITE_PREFIX.length());
    if (rest.isEmpty() || rest.startsWith(":") || rest.startsWith("file:")) {
      return url;
    }
    int query = rest.indexOf('?');
    String file = query >= 0 ? rest.substring(0, query) : rest;
    String params = query >= 0 ? rest.substring(query) : "";
    return SQLITE_PREFIX + path(base, STORE_JDBC_URL, file) + params;
  }
}
