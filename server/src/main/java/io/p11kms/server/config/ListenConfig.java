package io.p11kms.server.config;

import java.util.regex.Pattern;

/**
 * The gRPC listener's address ({@code listen.*}).
 *
 * @param host {@code listen.host}, a host name or IP address
 * @param port {@code listen.port}, 0-65535 (0: any free port)
 */
public record ListenConfig(String host, int port) {
  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 7443;

  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._:%\\[\\]-]{1,253}");

  public ListenConfig {
    if (host == null || !HOST.matcher(host).matches()) {
      throw new ConfigException(ServerConfig.LISTEN_HOST + " must be a host name or IP address");
    }
    if (port < 0 || port > 65535) {
      throw new ConfigException(ServerConfig.LISTEN_PORT + " must be 0-65535, was " + port);
    }
  }

  static ListenConfig from(ConfigProperties p) {
    return new ListenConfig(
        p.get(ServerConfig.LISTEN_HOST, DEFAULT_HOST),
        p.getInt(ServerConfig.LISTEN_PORT, DEFAULT_PORT));
  }

  String redacted() {
    return ServerConfig.LISTEN_HOST + "=" + host + ", " + ServerConfig.LISTEN_PORT + "=" + port;
  }
}
