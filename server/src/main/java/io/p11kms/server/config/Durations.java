package io.p11kms.server.config;

import java.time.Duration;

/** The range check of a configured duration, in milliseconds. */
final class Durations {
  private Durations() {}

  static void checkMillis(String key, Duration value, long min, long max) {
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
}
