package io.p11kms.server.config;

import io.p11kms.server.store.KeyStores;
import io.p11kms.server.store.StoreSettings;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * The key store ({@code store.*}): its JDBC URL (a relative SQLite file resolves against the
 * configuration's folder; default {@code p11kms.db} there), a user, and where the password comes
 * from. Neither the password nor its source's value is ever echoed in an error.
 *
 * @param jdbcUrl {@code store.jdbc.url}
 * @param user {@code store.jdbc.user}, or null (none, or in the URL)
 * @param passwordFile {@code store.jdbc.password.file}, or null
 * @param passwordEnv {@code store.jdbc.password.env}, or null
 * @param cacheMaxKeys {@code store.cache.max.keys}: key reads kept in memory (on SQLite), 0 for
 *     none
 */
public record StoreConfig(
    String jdbcUrl, String user, Path passwordFile, String passwordEnv, int cacheMaxKeys) {
  public static final String DEFAULT_DATABASE_FILE = "p11kms.db";

  private static final String SQLITE_PREFIX = "jdbc:sqlite:";
  private static final Pattern DATABASE_USER = Pattern.compile("[^\\s'\"]{1,63}");

  public StoreConfig {
    if (jdbcUrl == null || !jdbcUrl.startsWith("jdbc:") || jdbcUrl.length() < 6) {
      // Not echoed: a JDBC URL may carry a password.
      throw new ConfigException(ServerConfig.STORE_JDBC_URL + " must be a JDBC URL (jdbc:...)");
    }
    if (user != null && !DATABASE_USER.matcher(user).matches()) {
      throw new ConfigException(
          ServerConfig.STORE_JDBC_USER + " must be 1-63 characters, no spaces or quotes");
    }
    if (passwordFile != null && passwordEnv != null) {
      throw new ConfigException(
          "at most one of "
              + ServerConfig.STORE_JDBC_PASSWORD_FILE
              + " and "
              + ServerConfig.STORE_JDBC_PASSWORD_ENV);
    }
    if (cacheMaxKeys < 0 || cacheMaxKeys > KeyStores.MAX_KEY_READ_CACHE_SIZE) {
      throw new ConfigException(
          ServerConfig.STORE_CACHE_MAX_KEYS
              + " must be 0-"
              + KeyStores.MAX_KEY_READ_CACHE_SIZE
              + ", was "
              + cacheMaxKeys);
    }
    // Never echoed, as the PIN source: someone may have put the password itself there.
    if (passwordEnv != null && !EnvironmentNames.valid(passwordEnv)) {
      throw new ConfigException(
          ServerConfig.STORE_JDBC_PASSWORD_ENV
              + " must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
    }
  }

  static StoreConfig from(ConfigProperties p) {
    String url = p.get(ServerConfig.STORE_JDBC_URL, null);
    return new StoreConfig(
        url == null
            ? SQLITE_PREFIX + p.base().resolve(DEFAULT_DATABASE_FILE)
            : resolveSqliteUrl(p, url),
        p.get(ServerConfig.STORE_JDBC_USER, null),
        p.path(ServerConfig.STORE_JDBC_PASSWORD_FILE),
        p.get(ServerConfig.STORE_JDBC_PASSWORD_ENV, null),
        p.getInt(ServerConfig.STORE_CACHE_MAX_KEYS, KeyStores.DEFAULT_KEY_READ_CACHE_SIZE));
  }

  /** Where the key store is and how to log in to it; no password is read here. */
  public StoreSettings settings() {
    return new StoreSettings(jdbcUrl, user, passwordFile, passwordEnv);
  }

  /** A SQLite URL with a relative file path gets the path resolved; other URLs are unchanged. */
  private static String resolveSqliteUrl(ConfigProperties p, String url) {
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
    return SQLITE_PREFIX + p.resolve(ServerConfig.STORE_JDBC_URL, file) + params;
  }

  String redacted() {
    return ServerConfig.STORE_JDBC_URL
        + "="
        + redactJdbcUrl(jdbcUrl)
        + (user == null ? "" : ", " + ServerConfig.STORE_JDBC_USER + "=" + user)
        + (passwordFile == null
            ? ""
            : ", store.jdbc.password=file:" + passwordFile + " (not shown)")
        + (passwordEnv == null ? "" : ", store.jdbc.password=env:" + passwordEnv + " (not shown)")
        + ", "
        + ServerConfig.STORE_CACHE_MAX_KEYS
        + "="
        + cacheMaxKeys;
  }

  static String redactJdbcUrl(String url) {
    return url.replaceAll("(?i)(password=)[^&;]*", "$1***")
        .replaceAll("(//[^/@:?]*):[^/@?]*@", "$1:***@");
  }
}
