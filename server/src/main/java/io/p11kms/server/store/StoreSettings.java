package io.p11kms.server.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Where the key store is and how to log in to it: the JDBC URL, a user (or none: in the URL, or not
 * needed), and where the password comes from, a file or an environment variable (or none). The
 * password is read when a connection opens, never kept in this record, and never printed: {@link
 * #toString()} names its source only.
 */
public record StoreSettings(String jdbcUrl, String user, Path passwordFile, String passwordEnv) {

  public StoreSettings {
    if (jdbcUrl == null) {
      throw new IllegalArgumentException("a JDBC URL is required");
    }
    if (passwordFile != null && passwordEnv != null) {
      throw new IllegalArgumentException("a password file or a password variable, not both");
    }
  }

  /** A URL alone: SQLite, or a PostgreSQL URL that needs no password. */
  public static StoreSettings of(String jdbcUrl) {
    return new StoreSettings(jdbcUrl, null, null, null);
  }

  boolean hasPassword() {
    return passwordFile != null || passwordEnv != null;
  }

  /**
   * Reads the password; the caller wipes the array. A trailing newline of a file is ignored.
   *
   * @throws KeyStoreException naming the source (never the value) if it is missing or empty
   */
  char[] readPassword() {
    if (passwordEnv != null) {
      String value = System.getenv(passwordEnv);
      if (value == null || value.isEmpty()) {
        throw new KeyStoreException("store password variable " + passwordEnv + " is not set");
      }
      return value.toCharArray();
    }
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(passwordFile);
    } catch (IOException e) {
      throw new KeyStoreException(
          "cannot read store password file " + passwordFile + ": " + e.getClass().getSimpleName());
    }
    try {
      int length = bytes.length;
      while (length > 0 && (bytes[length - 1] == '\n' || bytes[length - 1] == '\r')) {
        length--;
      }
      if (length == 0) {
        throw new KeyStoreException("store password file " + passwordFile + " is empty");
      }
      CharBuffer chars = StandardCharsets.UTF_8.decode(ByteBuffer.wrap(bytes, 0, length));
      char[] password = Arrays.copyOfRange(chars.array(), chars.position(), chars.limit());
      Arrays.fill(chars.array(), '\0');
      return password;
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }

  /** The URL with any password in it masked, the user, and the password's source. */
  @Override
  public String toString() {
    return "StoreSettings{url="
        + redactUrl(jdbcUrl)
        + (user == null ? "" : ", user=" + user)
        + (passwordFile != null ? ", password=file:" + passwordFile + " (not shown)" : "")
        + (passwordEnv != null ? ", password=env:" + passwordEnv + " (not shown)" : "")
        + "}";
  }

  /** A JDBC URL with {@code password=...} parameters and {@code user:password@} masked. */
  public static String redactUrl(String url) {
    return url.replaceAll("(?i)(password=)[^&;]*", "$1***")
        .replaceAll("(//[^/@:?]*):[^/@?]*@", "$1:***@");
  }
}
