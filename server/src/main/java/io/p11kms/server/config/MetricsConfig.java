package io.p11kms.server.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Set;

/**
 * The {@code metrics.} keys of the server's properties file. The endpoint is off unless {@code
 * metrics.listen.port} is set; it binds to loopback only (the metrics are not secret, but they are
 * nobody else's business, and a scraper on another host goes through a proxy or a tunnel).
 *
 * @param host {@code metrics.listen.host}, a loopback address (default 127.0.0.1)
 * @param port {@code metrics.listen.port}; 0 picks a free port; null when the endpoint is off
 */
public record MetricsConfig(String host, Integer port) {
  public static final String PREFIX = "metrics.";
  public static final String METRICS_LISTEN_HOST = "metrics.listen.host";
  public static final String METRICS_LISTEN_PORT = "metrics.listen.port";

  /** Every {@code metrics.} key; any other is a typo and rejected. */
  public static final Set<String> KEYS = Set.of(METRICS_LISTEN_HOST, METRICS_LISTEN_PORT);

  public MetricsConfig {
    if (port != null && (port < 0 || port > 65535)) {
      throw new ConfigException(METRICS_LISTEN_PORT + " must be 0-65535, was " + port);
    }
    try {
      if (!InetAddress.getByName(host).isLoopbackAddress()) {
        throw new ConfigException(METRICS_LISTEN_HOST + " must be a loopback address");
      }
    } catch (UnknownHostException e) {
      throw new ConfigException(METRICS_LISTEN_HOST + " '" + host + "' does not resolve");
    }
  }

  /** Whether the endpoint is configured. */
  public boolean enabled() {
    return port != null;
  }

  /** Reads the {@code metrics.} keys; an unknown one is a typo and refused. */
  public static MetricsConfig from(ConfigProperties p) {
    p.rejectUnknownKeys(PREFIX, KEYS);
    return new MetricsConfig(
        p.get(METRICS_LISTEN_HOST, "127.0.0.1"),
        p.get(METRICS_LISTEN_PORT, null) == null ? null : p.getInt(METRICS_LISTEN_PORT, 0));
  }
}
