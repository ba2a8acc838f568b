package io.p11kms.server.xks;

import io.p11kms.server.config.ConfigException;
import io.p11kms.server.config.ConfigProperties;
import io.p11kms.server.http.ListenerSecurity;
import java.time.Duration;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The external key store (XKS) proxy API's listener, from the {@code xks.*} keys of the server's
 * properties file. Off unless {@code xks.port} is set.
 *
 * @param port the port; 0 for any free one; -1 when the XKS front end is off
 * @param host the address to listen on
 * @param pathPrefix the optional path prefix before {@code /kms/xks/v1}, empty or {@code /...}
 * @param fleetSize what GetHealthStatus reports as {@code xksProxyFleetSize}
 * @param clientCertificates whether TLS asks AWS KMS for a client certificate (mutual TLS)
 * @param maxInFlight requests in flight at once (headers in, not yet answered); more get
 *     ThrottlingException
 * @param healthRefresh how old the cached deep health check may be before it runs again
 * @param clientCommonName with client certificates, the common name (CN) the certificate's subject
 *     must have, such as {@code cks.kms.eu-west-1.amazonaws.com}; empty for any
 */
public record XksConfig(
    int port,
    String host,
    String pathPrefix,
    int fleetSize,
    ListenerSecurity.ClientCertificates clientCertificates,
    int maxInFlight,
    Duration healthRefresh,
    String clientCommonName) {
  public static final String PORT = "xks.port";
  public static final String HOST = "xks.host";
  public static final String PATH_PREFIX = "xks.path.prefix";
  public static final String FLEET_SIZE = "xks.fleet.size";
  public static final String CLIENT_CERTIFICATES = "xks.tls.client.certificates";
  public static final String MAX_IN_FLIGHT = "xks.max.in.flight";
  public static final String HEALTH_REFRESH_MS = "xks.health.refresh.ms";
  public static final String CLIENT_COMMON_NAME = "xks.tls.client.cn";

  private static final Set<String> KEYS =
      Set.of(
          PORT,
          HOST,
          PATH_PREFIX,
          FLEET_SIZE,
          CLIENT_CERTIFICATES,
          MAX_IN_FLIGHT,
          HEALTH_REFRESH_MS,
          CLIENT_COMMON_NAME);

  /** The API's path after the prefix, as the specification fixes it. */
  public static final String API_PATH = "/kms/xks/v1";

  /** What XksProxyUriPath may hold, at most 128 characters in all. */
  private static final Pattern URI_PATH = Pattern.compile("[A-Za-z0-9/_-]{0,128}");

  public XksConfig {
    if (port < -1 || port > 65535) {
      throw new ConfigException(PORT + " must be a port number, was " + port);
    }
    if (!pathPrefix.isEmpty() && (!pathPrefix.startsWith("/") || pathPrefix.endsWith("/"))) {
      throw new ConfigException(
          PATH_PREFIX + " must be empty or start with '/' and not end with one");
    }
    if (!URI_PATH.matcher(pathPrefix + API_PATH).matches()) {
      throw new ConfigException(
          PATH_PREFIX
              + " with "
              + API_PATH
              + " must be at most 128 characters of a-z, A-Z, 0-9, '/', '-' and '_'");
    }
    if (fleetSize < 1) {
      throw new ConfigException(FLEET_SIZE + " must be at least 1");
    }
    if (maxInFlight < 1) {
      throw new ConfigException(MAX_IN_FLIGHT + " must be at least 1");
    }
    if (!clientCommonName.isEmpty()
        && clientCertificates != ListenerSecurity.ClientCertificates.REQUIRED) {
      throw new ConfigException(CLIENT_COMMON_NAME + " needs " + CLIENT_CERTIFICATES + "=required");
    }
    if (healthRefresh.isNegative() || healthRefresh.compareTo(Duration.ofMinutes(1)) >= 0) {
      throw new ConfigException(
          HEALTH_REFRESH_MS + " must be under a minute (a cached result is at most one old)");
    }
  }

  /** Whether the XKS front end runs. */
  public boolean enabled() {
    return port >= 0;
  }

  /** The URI path of the API, {@code [/<prefix>]/kms/xks/v1}: XksProxyUriPath in AWS KMS. */
  public String basePath() {
    return pathPrefix + API_PATH;
  }

  /** Reads the {@code xks.*} keys; an unknown one is a typo and refused. */
  public static XksConfig from(ConfigProperties p, String defaultHost) {
    p.rejectUnknownKeys("xks.", KEYS);
    return new XksConfig(
        p.getInt(PORT, -1),
        p.get(HOST, defaultHost),
        p.get(PATH_PREFIX, ""),
        p.getInt(FLEET_SIZE, 1),
        p.choice(
            CLIENT_CERTIFICATES,
            ListenerSecurity.ClientCertificates.class,
            ListenerSecurity.ClientCertificates.NONE),
        p.getInt(MAX_IN_FLIGHT, 64),
        Duration.ofMillis(p.getInt(HEALTH_REFRESH_MS, 20_000)),
        p.get(CLIENT_COMMON_NAME, ""));
  }
}
