package io.p11kms.hsm;

import io.p11kms.hsm.session.LibraryRecycling;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How to reach the token and how hard to try: the PKCS#11 library, the token's label (never a slot
 * index: SoftHSM2 renumbers slots), where the user PIN comes from, the session pool's bounds, the
 * deadline of every token call, the unwrapped-backing-key cache's bounds, and how often the token
 * may be reopened after a device fault.
 *
 * @param sessionPoolSize sessions kept open against the token, 1-1024
 * @param borrowTimeout how long a call waits for a free session before it fails as unavailable
 * @param callTimeout the deadline of one token call (the few PKCS#11 functions of one operation on
 *     one session); a call that exceeds it fails as unavailable
 * @param cacheMaxKeys unwrapped backing keys kept as session objects, 0-100000; 0 turns the cache
 *     off (every request unwraps and destroys its own)
 * @param cacheMaxAge how long an unwrapped backing key may be kept after its unwrap
 * @param reopenInterval the shortest time between two reopens of the token after device faults
 * @param libraryRecycleObjects after how many objects made the PKCS#11 library is initialized
 *     afresh ({@link LibraryRecycling}): 0 never, {@link #LIBRARY_RECYCLE_AUTO} a bound only for a
 *     library that needs one (SoftHSM2)
 * @param moduleInitString passed in {@code C_Initialize}'s {@code pReserved}, empty for none: NSS
 *     softoken reads its configuration there ({@code configdir='sql:/path'
 *     dbTokenDescription='label'})
 * @param allowUnenforcedCustody whether to run on a token that does not enforce key custody ({@link
 *     TokenCapabilities#custodyEnforced()}): there anyone with the user PIN can take key material
 *     out, so it is refused unless this is set, for development and tests only
 */
public record HsmConfig(
    Path modulePath,
    String tokenLabel,
    PinSource userPin,
    int sessionPoolSize,
    Duration borrowTimeout,
    Duration callTimeout,
    int cacheMaxKeys,
    Duration cacheMaxAge,
    Duration reopenInterval,
    long libraryRecycleObjects,
    String moduleInitString,
    boolean allowUnenforcedCustody) {

  public static final int DEFAULT_SESSION_POOL_SIZE = 8;
  public static final Duration DEFAULT_BORROW_TIMEOUT = Duration.ofSeconds(5);
  public static final Duration DEFAULT_CALL_TIMEOUT = Duration.ofSeconds(10);

  /**
   * Enough for the hot keys of a large key set: under a Zipf(1.0) choice over 100,000 keys the
   * 18,000 most used take 86% of the calls. On SoftHSM2 each cached key costs about 7.4 KB of the
   * process's memory (133 MB when full, and an eighth of that again while the library is recycled);
   * this is what fits a server of 100,000 keys in 512 MiB resident, its peak included, with
   * run.sh's JVM and jemalloc options (docs/configuration.md, "Sizing the caches").
   */
  public static final int DEFAULT_CACHE_MAX_KEYS = 18_000;

  public static final int MAX_CACHE_MAX_KEYS = 100_000;
  public static final Duration DEFAULT_CACHE_MAX_AGE = Duration.ofMinutes(5);
  public static final Duration DEFAULT_REOPEN_INTERVAL = Duration.ofSeconds(1);
  public static final long LIBRARY_RECYCLE_AUTO = -1;
  public static final long MIN_LIBRARY_RECYCLE_OBJECTS = 1_000;

  public HsmConfig {
    if (modulePath == null) {
      throw new IllegalArgumentException("PKCS#11 module path is required");
    }
    if (tokenLabel == null || tokenLabel.isBlank() || tokenLabel.length() > 32) {
      throw new IllegalArgumentException("token label must be 1-32 characters");
    }
    if (userPin == null) {
      throw new IllegalArgumentException("a user PIN source is required");
    }
    if (sessionPoolSize < 1 || sessionPoolSize > 1024) {
      throw new IllegalArgumentException(
          "session pool size must be 1-1024, was " + sessionPoolSize);
    }
    requirePositive(borrowTimeout, "session borrow timeout");
    requirePositive(callTimeout, "token call timeout");
    if (cacheMaxKeys < 0 || cacheMaxKeys > MAX_CACHE_MAX_KEYS) {
      throw new IllegalArgumentException(
          "backing key cache size must be 0-" + MAX_CACHE_MAX_KEYS + ", was " + cacheMaxKeys);
    }
    requirePositive(cacheMaxAge, "backing key cache age");
    if (reopenInterval == null || reopenInterval.isNegative()) {
      throw new IllegalArgumentException("token reopen interval must not be negative");
    }
    if (libraryRecycleObjects != LIBRARY_RECYCLE_AUTO
        && libraryRecycleObjects != 0
        && libraryRecycleObjects < MIN_LIBRARY_RECYCLE_OBJECTS) {
      throw new IllegalArgumentException(
          "library recycle bound must be 0 or at least "
              + MIN_LIBRARY_RECYCLE_OBJECTS
              + ", was "
              + libraryRecycleObjects);
    }
    if (moduleInitString == null) {
      moduleInitString = "";
    }
  }

  /** Without an initialization string, on a token that must enforce custody. */
  public HsmConfig(
      Path modulePath,
      String tokenLabel,
      PinSource userPin,
      int sessionPoolSize,
      Duration borrowTimeout,
      Duration callTimeout,
      int cacheMaxKeys,
      Duration cacheMaxAge,
      Duration reopenInterval,
      long libraryRecycleObjects) {
    this(
        modulePath,
        tokenLabel,
        userPin,
        sessionPoolSize,
        borrowTimeout,
        callTimeout,
        cacheMaxKeys,
        cacheMaxAge,
        reopenInterval,
        libraryRecycleObjects,
        "",
        false);
  }

  /** With the default call deadline, cache bounds and reopen interval. */
  public HsmConfig(
      Path modulePath,
      String tokenLabel,
      PinSource userPin,
      int sessionPoolSize,
      Duration borrowTimeout) {
    this(
        modulePath,
        tokenLabel,
        userPin,
        sessionPoolSize,
        borrowTimeout,
        DEFAULT_CALL_TIMEOUT,
        DEFAULT_CACHE_MAX_KEYS,
        DEFAULT_CACHE_MAX_AGE,
        DEFAULT_REOPEN_INTERVAL,
        LIBRARY_RECYCLE_AUTO);
  }

  /** With every default. */
  public HsmConfig(Path modulePath, String tokenLabel, PinSource userPin) {
    this(modulePath, tokenLabel, userPin, DEFAULT_SESSION_POOL_SIZE, DEFAULT_BORROW_TIMEOUT);
  }

  /** This configuration with another call deadline. */
  public HsmConfig withCallTimeout(Duration timeout) {
    return new HsmConfig(
        modulePath,
        tokenLabel,
        userPin,
        sessionPoolSize,
        borrowTimeout,
        timeout,
        cacheMaxKeys,
        cacheMaxAge,
        reopenInterval,
        libraryRecycleObjects,
        moduleInitString,
        allowUnenforcedCustody);
  }

  /** This configuration with other cache bounds ({@code maxKeys} 0 turns the cache off). */
  public HsmConfig withCache(int maxKeys, Duration maxAge) {
    return new HsmConfig(
        modulePath,
        tokenLabel,
        userPin,
        sessionPoolSize,
        borrowTimeout,
        callTimeout,
        maxKeys,
        maxAge,
        reopenInterval,
        libraryRecycleObjects,
        moduleInitString,
        allowUnenforcedCustody);
  }

  /** This configuration with another reopen interval. */
  public HsmConfig withReopenInterval(Duration interval) {
    return new HsmConfig(
        modulePath,
        tokenLabel,
        userPin,
        sessionPoolSize,
        borrowTimeout,
        callTimeout,
        cacheMaxKeys,
        cacheMaxAge,
        interval,
        libraryRecycleObjects,
        moduleInitString,
        allowUnenforcedCustody);
  }

  /** This configuration with other session pool bounds. */
  public HsmConfig withPool(int size, Duration borrow) {
    return new HsmConfig(
        modulePath,
        tokenLabel,
        userPin,
        size,
        borrow,
        callTimeout,
        cacheMaxKeys,
        cacheMaxAge,
        reopenInterval,
        libraryRecycleObjects,
        moduleInitString,
        allowUnenforcedCustody);
  }

  /** This configuration with another library recycle bound (0 never; or at least 1,000). */
  public HsmConfig withLibraryRecycle(long objects) {
    return new HsmConfig(
        modulePath,
        tokenLabel,
        userPin,
        sessionPoolSize,
        borrowTimeout,
        callTimeout,
        cacheMaxKeys,
        cacheMaxAge,
        reopenInterval,
        objects,
        moduleInitString,
        allowUnenforcedCustody);
  }

  private static void requirePositive(Duration value, String what) {
    if (value == null || value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(what + " must be positive");
    }
  }

  /** This configuration with another initialization string for {@code C_Initialize}. */
  public HsmConfig withModuleInitString(String initString) {
    return new HsmConfig(
        modulePath,
        tokenLabel,
        userPin,
        sessionPoolSize,
        borrowTimeout,
        callTimeout,
        cacheMaxKeys,
        cacheMaxAge,
        reopenInterval,
        libraryRecycleObjects,
        initString,
        allowUnenforcedCustody);
  }

  /** This configuration, allowing a token that does not enforce custody or not. */
  public HsmConfig withUnenforcedCustody(boolean allow) {
    return new HsmConfig(
        modulePath,
        tokenLabel,
        userPin,
        sessionPoolSize,
        borrowTimeout,
        callTimeout,
        cacheMaxKeys,
        cacheMaxAge,
        reopenInterval,
        libraryRecycleObjects,
        moduleInitString,
        allow);
  }
}
