package io.p11kms.server.config;

import static io.p11kms.server.config.ServerConfig.HSM_CACHE_MAX_AGE_MS;
import static io.p11kms.server.config.ServerConfig.HSM_CACHE_MAX_KEYS;
import static io.p11kms.server.config.ServerConfig.HSM_CALL_TIMEOUT_MS;
import static io.p11kms.server.config.ServerConfig.HSM_CUSTODY_UNENFORCED_ALLOWED;
import static io.p11kms.server.config.ServerConfig.HSM_HEALTH_INTERVAL_MS;
import static io.p11kms.server.config.ServerConfig.HSM_LIBRARY_RECYCLE_OBJECTS;
import static io.p11kms.server.config.ServerConfig.HSM_MODULE;
import static io.p11kms.server.config.ServerConfig.HSM_MODULE_INIT_STRING;
import static io.p11kms.server.config.ServerConfig.HSM_PIN_ENV;
import static io.p11kms.server.config.ServerConfig.HSM_PIN_FILE;
import static io.p11kms.server.config.ServerConfig.HSM_REOPEN_INTERVAL_MS;
import static io.p11kms.server.config.ServerConfig.HSM_SESSION_BORROW_TIMEOUT_MS;
import static io.p11kms.server.config.ServerConfig.HSM_SESSION_POOL_SIZE;
import static io.p11kms.server.config.ServerConfig.HSM_TOKEN_LABEL;

import io.p11kms.hsm.HsmConfig;
import io.p11kms.hsm.PinSource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The token ({@code hsm.*}): the PKCS#11 library and token, where the user PIN comes from (a file
 * or an environment variable, never the PIN itself), the session pool, deadlines, the backing key
 * cache, recovery and the health probe.
 *
 * @param pinFile the file holding the token user PIN; null when {@code pinEnv} is set
 * @param pinEnv the environment variable holding the PIN; null when {@code pinFile} is set
 * @param callTimeout the deadline of one token call
 * @param cacheMaxKeys unwrapped backing keys kept in the token, 0 for none
 * @param cacheMaxAge how long an unwrapped backing key is kept
 * @param reopenInterval the shortest time between two reopens of the token
 * @param healthInterval how often the health probe checks the token
 * @param libraryRecycleObjects after how many objects made the PKCS#11 library is initialized
 *     afresh: 0 never, -1 ({@code auto}) only for a library that needs it (SoftHSM2)
 * @param moduleInitString given to the PKCS#11 library in {@code C_Initialize}'s {@code pReserved},
 *     empty for none (NSS softoken reads its database folder and token label there)
 * @param allowUnenforcedCustody whether to run on a token that does not enforce key custody (NSS
 *     softoken): for development and tests only
 */
public record TokenConfig(
    Path module,
    String tokenLabel,
    Path pinFile,
    String pinEnv,
    int sessionPoolSize,
    Duration sessionBorrowTimeout,
    Duration callTimeout,
    int cacheMaxKeys,
    Duration cacheMaxAge,
    Duration reopenInterval,
    Duration healthInterval,
    long libraryRecycleObjects,
    String moduleInitString,
    boolean allowUnenforcedCustody) {

  public static final String DEFAULT_MODULE = "/usr/lib/softhsm/libsofthsm2.so";
  public static final int MAX_SESSION_POOL_SIZE = 1024;
  public static final long MAX_BORROW_TIMEOUT_MS = 600_000;
  public static final long MAX_CALL_TIMEOUT_MS = 600_000;
  public static final long MAX_CACHE_AGE_MS = 86_400_000;
  public static final long MAX_REOPEN_INTERVAL_MS = 600_000;
  public static final long MAX_HEALTH_INTERVAL_MS = 600_000;
  public static final Duration DEFAULT_HEALTH_INTERVAL = Duration.ofSeconds(1);

  public TokenConfig {
    if (moduleInitString == null) {
      moduleInitString = "";
    }
    if (module == null) {
      throw new ConfigException(HSM_MODULE + " is required");
    }
    if (tokenLabel == null || tokenLabel.isBlank()) {
      throw new ConfigException(HSM_TOKEN_LABEL + " is required");
    }
    int labelBytes = tokenLabel.getBytes(StandardCharsets.UTF_8).length;
    if (labelBytes > 32) {
      throw new ConfigException(
          HSM_TOKEN_LABEL + " must be at most 32 bytes in UTF-8, was " + labelBytes);
    }
    if ((pinFile == null) == (pinEnv == null)) {
      throw new ConfigException(
          "exactly one of "
              + HSM_PIN_FILE
              + " and "
              + HSM_PIN_ENV
              + " is required, "
              + (pinFile == null ? "neither" : "both")
              + " given");
    }
    // Never echo a PIN source value: someone may have put the PIN itself there.
    if (pinEnv != null && !EnvironmentNames.valid(pinEnv)) {
      throw new ConfigException(
          HSM_PIN_ENV + " must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
    }
    if (sessionPoolSize < 1 || sessionPoolSize > MAX_SESSION_POOL_SIZE) {
      throw new ConfigException(
          HSM_SESSION_POOL_SIZE
              + " must be 1-"
              + MAX_SESSION_POOL_SIZE
              + ", was "
              + sessionPoolSize);
    }
    Durations.checkMillis(
        HSM_SESSION_BORROW_TIMEOUT_MS, sessionBorrowTimeout, 1, MAX_BORROW_TIMEOUT_MS);
    Durations.checkMillis(HSM_CALL_TIMEOUT_MS, callTimeout, 1, MAX_CALL_TIMEOUT_MS);
    if (cacheMaxKeys < 0 || cacheMaxKeys > HsmConfig.MAX_CACHE_MAX_KEYS) {
      throw new ConfigException(
          HSM_CACHE_MAX_KEYS
              + " must be 0-"
              + HsmConfig.MAX_CACHE_MAX_KEYS
              + ", was "
              + cacheMaxKeys);
    }
    Durations.checkMillis(HSM_CACHE_MAX_AGE_MS, cacheMaxAge, 1, MAX_CACHE_AGE_MS);
    Durations.checkMillis(HSM_REOPEN_INTERVAL_MS, reopenInterval, 0, MAX_REOPEN_INTERVAL_MS);
    Durations.checkMillis(HSM_HEALTH_INTERVAL_MS, healthInterval, 100, MAX_HEALTH_INTERVAL_MS);
    if (libraryRecycleObjects != HsmConfig.LIBRARY_RECYCLE_AUTO
        && libraryRecycleObjects != 0
        && libraryRecycleObjects < HsmConfig.MIN_LIBRARY_RECYCLE_OBJECTS) {
      throw new ConfigException(
          HSM_LIBRARY_RECYCLE_OBJECTS
              + " must be auto, 0 or at least "
              + HsmConfig.MIN_LIBRARY_RECYCLE_OBJECTS
              + ", was "
              + libraryRecycleObjects);
    }
  }

  static TokenConfig from(ConfigProperties p) {
    String pinFile = p.get(HSM_PIN_FILE, null);
    return new TokenConfig(
        p.resolve(HSM_MODULE, p.get(HSM_MODULE, DEFAULT_MODULE)),
        p.get(HSM_TOKEN_LABEL, null),
        pinFile == null ? null : p.resolve(HSM_PIN_FILE, pinFile),
        p.get(HSM_PIN_ENV, null),
        p.getInt(HSM_SESSION_POOL_SIZE, HsmConfig.DEFAULT_SESSION_POOL_SIZE),
        Duration.ofMillis(
            p.getInt(
                HSM_SESSION_BORROW_TIMEOUT_MS, (int) HsmConfig.DEFAULT_BORROW_TIMEOUT.toMillis())),
        p.millis(HSM_CALL_TIMEOUT_MS, HsmConfig.DEFAULT_CALL_TIMEOUT),
        p.getInt(HSM_CACHE_MAX_KEYS, HsmConfig.DEFAULT_CACHE_MAX_KEYS),
        p.millis(HSM_CACHE_MAX_AGE_MS, HsmConfig.DEFAULT_CACHE_MAX_AGE),
        p.millis(HSM_REOPEN_INTERVAL_MS, HsmConfig.DEFAULT_REOPEN_INTERVAL),
        p.millis(HSM_HEALTH_INTERVAL_MS, DEFAULT_HEALTH_INTERVAL),
        libraryRecycle(p),
        p.get(HSM_MODULE_INIT_STRING, ""),
        p.bool(HSM_CUSTODY_UNENFORCED_ALLOWED));
  }

  private static long libraryRecycle(ConfigProperties p) {
    String value = p.get(HSM_LIBRARY_RECYCLE_OBJECTS, "auto");
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

  /** The token settings for {@code io.p11kms.hsm}. */
  public HsmConfig hsmConfig() {
    return new HsmConfig(
        module,
        tokenLabel,
        pinSource(),
        sessionPoolSize,
        sessionBorrowTimeout,
        callTimeout,
        cacheMaxKeys,
        cacheMaxAge,
        reopenInterval,
        libraryRecycleObjects,
        moduleInitString,
        allowUnenforcedCustody);
  }

  /**
   * Requests a front end handles at once: twice the token's session pool, at least 4. More threads
   * would only pile up on the session pool and cost more in switching than they add; further calls
   * wait in the front end's queue instead.
   */
  public int handlerThreads() {
    return Math.max(4, 2 * sessionPoolSize);
  }

  /** Where the PIN comes from; nothing is read here. */
  public PinSource pinSource() {
    return pinFile != null ? PinSource.fromFile(pinFile) : PinSource.fromEnvironment(pinEnv);
  }

  /** The settings for a log line: the PIN source is named (file or variable), never read. */
  String redacted() {
    return HSM_MODULE
        + "="
        + module
        + ", "
        + HSM_TOKEN_LABEL
        + "="
        + tokenLabel
        + ", hsm.pin="
        + pinSource()
        + " (not shown), "
        + HSM_SESSION_POOL_SIZE
        + "="
        + sessionPoolSize
        + ", "
        + HSM_SESSION_BORROW_TIMEOUT_MS
        + "="
        + sessionBorrowTimeout.toMillis()
        + ", "
        + HSM_CALL_TIMEOUT_MS
        + "="
        + callTimeout.toMillis()
        + ", "
        + HSM_CACHE_MAX_KEYS
        + "="
        + cacheMaxKeys
        + ", "
        + HSM_CACHE_MAX_AGE_MS
        + "="
        + cacheMaxAge.toMillis()
        + ", "
        + HSM_REOPEN_INTERVAL_MS
        + "="
        + reopenInterval.toMillis()
        + ", "
        + HSM_HEALTH_INTERVAL_MS
        + "="
        + healthInterval.toMillis()
        + ", "
        + HSM_LIBRARY_RECYCLE_OBJECTS
        + "="
        + (libraryRecycleObjects == HsmConfig.LIBRARY_RECYCLE_AUTO ? "auto" : libraryRecycleObjects)
        + (moduleInitString.isEmpty() ? "" : ", " + HSM_MODULE_INIT_STRING + "=" + moduleInitString)
        + (allowUnenforcedCustody ? ", " + HSM_CUSTODY_UNENFORCED_ALLOWED + "=true" : "");
  }
}
