package io.p11kms.server.config;

/**
 * The configuration is unreadable or invalid. The message names the key and the rule, and the value
 * only where it is not secret.
 */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
