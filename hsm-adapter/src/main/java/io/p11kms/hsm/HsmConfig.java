package io.p11kms.hsm;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How to reach the token: the PKCS#11 library, the token's label (never a slot index: SoftHSM2
 * renumbers slots), where the user PIN comes from, and the session pool's bounds.
 */
public record HsmConfig(
    Path modulePath,
    String tokenLabel,
    PinSource userPin,
    int sessionPoolSize,
    Duration borrowTimeout) {

  public static final int DEFAULT_SESSION_POOL_SIZE = 8;
  public static final Duration DEFAULT_BORROW_TIMEOUT = Duration.ofSeconds(5);

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
    if (borrowTimeout == null || borrowTimeout.isNegative() || borrowTimeout.isZero()) {
      throw new IllegalArgumentException("session borrow timeout must be positive");
    }
  }

  public HsmConfig(Path modulePath, String tokenLabel, PinSource userPin) {
    this(modulePath, tokenLabel, userPin, DEFAULT_SESSION_POOL_SIZE, DEFAULT_BORROW_TIMEOUT);
  }
}
