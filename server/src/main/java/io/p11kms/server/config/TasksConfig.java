package io.p11kms.server.config;

import java.time.Duration;

/**
 * The scheduled work ({@code tasks.*}).
 *
 * @param interval {@code tasks.interval.ms}: how often the server looks for due key rotations,
 *     deletions and expiries of imported key material
 */
public record TasksConfig(Duration interval) {
  public static final Duration DEFAULT_INTERVAL = Duration.ofMinutes(1);
  public static final long MAX_INTERVAL_MS = 3_600_000;

  public TasksConfig {
    Durations.checkMillis(ServerConfig.TASKS_INTERVAL_MS, interval, 100, MAX_INTERVAL_MS);
  }

  static TasksConfig from(ConfigProperties p) {
    return new TasksConfig(p.millis(ServerConfig.TASKS_INTERVAL_MS, DEFAULT_INTERVAL));
  }

  String redacted() {
    return ServerConfig.TASKS_INTERVAL_MS + "=" + interval.toMillis();
  }
}
