package io.p11kms.bench;

import java.time.Duration;

/** How long each point warms up and is measured. */
record Timing(Duration warmup, Duration measure) {
  static final Timing FULL = new Timing(Duration.ofSeconds(3), Duration.ofSeconds(10));
  static final Timing QUICK = new Timing(Duration.ofSeconds(1), Duration.ofSeconds(3));

  /** How long each operation runs before the first measured point of a fresh server. */
  Duration serverWarmup() {
    return measure.compareTo(Duration.ofSeconds(5)) < 0
        ? Duration.ofSeconds(2)
        : Duration.ofSeconds(5);
  }

  double measureSeconds() {
    return measure.toNanos() / 1e9;
  }

  /** Enough room for every sample of a point at up to 200,000 calls a second. */
  int sampleCapacity() {
    return (int) Math.min(Integer.MAX_VALUE - 8, (long) (measureSeconds() * 200_000));
  }
}
