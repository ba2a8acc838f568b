package io.p11kms.server.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * The properties of a configuration file and the folder relative paths resolve against, read as
 * typed values: a blank value counts as absent, a malformed one is a {@link ConfigException} naming
 * the key (and, for numbers and booleans, the value).
 */
public final class ConfigProperties {
  private final Properties properties;
  private final Path base;

  public ConfigProperties(Properties properties, Path baseDir) {
    if (properties == null || baseDir == null) {
      throw new ConfigException("properties and a base folder are required");
    }
    this.properties = properties;
    this.base = baseDir.toAbsolutePath().normalize();
  }

  /** Reads a properties file (UTF-8); relative paths resolve against its folder. */
  public static ConfigProperties load(Path file) {
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
    return new ConfigProperties(p, file.toAbsolutePath().getParent());
  }

  /** The properties as read. */
  public Properties properties() {
    return properties;
  }

  /** The folder relative paths resolve against. */
  public Path base() {
    return base;
  }

  /** The stripped value of {@code key}, or {@code defaultValue} when it is absent or blank. */
  public String get(String key, String defaultValue) {
    String value = properties.getProperty(key);
    if (value == null || value.isBlank()) {
      return defaultValue;
    }
    return value.strip();
  }

  public int getInt(String key, int defaultValue) {
    String value = get(key, null);
    if (value == null) {
      return defaultValue;
    }
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new ConfigException(key + " must be an integer, was '" + value + "'");
    }
  }

  /** A number of milliseconds. */
  public Duration millis(String key, Duration defaultValue) {
    String value = get(key, null);
    if (value == null) {
      return defaultValue;
    }
    try {
      return Duration.ofMillis(Long.parseLong(value));
    } catch (NumberFormatException e) {
      throw new ConfigException(key + " must be an integer, was '" + value + "'");
    }
  }

  /** {@code true} or {@code false}; absent is false. */
  public boolean bool(String key) {
    return bool(key, false);
  }

  /** {@code true} or {@code false}; absent is {@code defaultValue}. */
  public boolean bool(String key, boolean defaultValue) {
    String value = get(key, Boolean.toString(defaultValue));
    if (!value.equals("true") && !value.equals("false")) {
      throw new ConfigException(key + " must be true or false, was '" + value + "'");
    }
    return Boolean.parseBoolean(value);
  }

  /**
   * One of {@code type}'s constants, named in any case ({@code none} for {@code NONE}); absent is
   * {@code defaultValue}.
   */
  public <E extends Enum<E>> E choice(String key, Class<E> type, E defaultValue) {
    String value = get(key, null);
    if (value == null) {
      return defaultValue;
    }
    for (E constant : type.getEnumConstants()) {
      if (constant.name().equalsIgnoreCase(value)) {
        return constant;
      }
    }
    List<String> names =
        Arrays.stream(type.getEnumConstants()).map(c -> c.name().toLowerCase(Locale.ROOT)).toList();
    throw new ConfigException(
        key
            + " must be "
            + String.join(", ", names.subList(0, names.size() - 1))
            + " or "
            + names.get(names.size() - 1)
            + ", was '"
            + value
            + "'");
  }

  /**
   * Refuses a key under {@code prefix} that is not one of {@code keys}: a typo.
   *
   * @throws ConfigException naming the first such key, in sorted order
   */
  public void rejectUnknownKeys(String prefix, Set<String> keys) {
    new TreeSet<>(properties.stringPropertyNames())
        .stream()
            .filter(key -> key.startsWith(prefix) && !keys.contains(key))
            .findFirst()
            .ifPresent(
                key -> {
                  throw new ConfigException("unknown configuration key " + key);
                });
  }

  /** A path resolved against the base folder, or null when absent. */
  public Path path(String key) {
    String value = get(key, null);
    return value == null ? null : resolve(key, value);
  }

  /** {@code value} (the value of {@code key}) resolved against the base folder. */
  public Path resolve(String key, String value) {
    try {
      return base.resolve(value).normalize();
    } catch (InvalidPathException e) {
      throw new ConfigException(key + " is not a valid path");
    }
  }
}
