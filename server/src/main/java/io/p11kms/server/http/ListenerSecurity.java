package io.p11kms.server.http;

import io.p11kms.server.Tls;
import io.p11kms.server.config.ConfigException;
import io.p11kms.server.config.SecurityConfig;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * How an {@link HttpListener} is secured, from the same configuration as the gRPC listener: TLS
 * with the server's certificate and key files (and client certificates chained to the configured CA
 * not asked for, optional or required), or in development mode, and only then, plaintext on
 * loopback.
 */
public final class ListenerSecurity {
  /** Whether the TLS handshake asks the client for a certificate. */
  public enum ClientCertificates {
    /** Not asked for: callers authenticate otherwise (AWS Signature Version 4). */
    NONE,
    /** Asked for; a client without one is still served, one that does not verify is refused. */
    OPTIONAL,
    /** Required: mutual TLS. */
    REQUIRED
  }

  private final SecurityConfig config;
  private final ClientCertificates clientCertificates;

  private ListenerSecurity(SecurityConfig config, ClientCertificates clientCertificates) {
    this.config = config;
    this.clientCertificates = clientCertificates;
  }

  /**
   * TLS when {@code config} names the files; else plaintext on loopback in development mode.
   *
   * @throws ConfigException with neither TLS files nor development mode
   */
  public static ListenerSecurity of(SecurityConfig config, ClientCertificates clientCertificates) {
    if (!config.tls() && !config.devMode()) {
      throw new ConfigException(
          "no listener security configured: set "
              + SecurityConfig.TLS_CERT_FILE
              + ", "
              + SecurityConfig.TLS_KEY_FILE
              + " and "
              + SecurityConfig.TLS_CLIENT_CA_FILE
              + ", or ask for development mode ("
              + SecurityConfig.DEV_MODE
              + "=true)");
    }
    return new ListenerSecurity(config, clientCertificates);
  }

  /** Whether the listener is plaintext (development mode, loopback only). */
  public boolean plaintext() {
    return !config.tls();
  }

  public ClientCertificates clientCertificates() {
    return clientCertificates;
  }

  SslContextFactory.Server sslContextFactory() {
    SslContextFactory.Server factory = new SslContextFactory.Server();
    factory.setSslContext(Tls.jdkContext(config));
    factory.setNeedClientAuth(clientCertificates == ClientCertificates.REQUIRED);
    factory.setWantClientAuth(clientCertificates == ClientCertificates.OPTIONAL);
    return factory;
  }
}
