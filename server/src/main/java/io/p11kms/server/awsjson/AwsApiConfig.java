package io.p11kms.server.awsjson;

import io.p11kms.server.config.ConfigException;
import io.p11kms.server.config.ConfigProperties;
import io.p11kms.server.config.ListenConfig;
import io.p11kms.server.http.ListenerSecurity.ClientCertificates;
import java.util.Set;

/**
 * The {@code aws.} keys of the server's properties file: the AWS KMS JSON API's listener, on by
 * default beside gRPC, secured as gRPC is (TLS from the {@code tls.} files, or plaintext on
 * loopback in development mode).
 *
 * @param enabled {@code aws.enabled} (default true)
 * @param host {@code aws.listen.host} (default {@code listen.host})
 * @param port {@code aws.listen.port} (default {@code listen.port} + 1, or 0 when that is 0)
 * @param clientCertificates {@code aws.client.certificates}: {@code none} (default: callers
 *     authenticate by signature), {@code optional} or {@code required}
 */
public record AwsApiConfig(
    boolean enabled, String host, int port, ClientCertificates clientCertificates) {
  public static final String PREFIX = "aws.";
  public static final String ENABLED = "aws.enabled";
  public static final String LISTEN_HOST = "aws.listen.host";
  public static final String LISTEN_PORT = "aws.listen.port";
  public static final String CLIENT_CERTIFICATES = "aws.client.certificates";

  /** Every {@code aws.} key; any other is a typo and rejected. */
  public static final Set<String> KEYS =
      Set.of(ENABLED, LISTEN_HOST, LISTEN_PORT, CLIENT_CERTIFICATES);

  public AwsApiConfig {
    if (port < 0 || port > 65535) {
      throw new ConfigException(LISTEN_PORT + " must be 0-65535, was " + port);
    }
    if (host == null || host.isBlank()) {
      throw new ConfigException(LISTEN_HOST + " must be a host name or IP address");
    }
  }

  /** Off: gRPC only. */
  public static AwsApiConfig off() {
    return new AwsApiConfig(false, ListenConfig.DEFAULT_HOST, 0, ClientCertificates.NONE);
  }

  /**
   * Reads the {@code aws.} keys; an unknown one is a typo and refused.
   *
   * @param grpcHost the gRPC listener's host, the default one
   * @param grpcPort the gRPC listener's port; the default port is the next one (0 when it is 0)
   */
  public static AwsApiConfig from(ConfigProperties p, String grpcHost, int grpcPort) {
    p.rejectUnknownKeys(PREFIX, KEYS);
    return new AwsApiConfig(
        p.bool(ENABLED, true),
        p.get(LISTEN_HOST, grpcHost),
        p.getInt(LISTEN_PORT, grpcPort == 0 ? 0 : grpcPort + 1),
        p.choice(CLIENT_CERTIFICATES, ClientCertificates.class, ClientCertificates.NONE));
  }
}
