package io.p11kms.server.http;

import io.netty.handler.ssl.SslHandler;
import io.p11kms.server.config.ConfigException;
import io.p11kms.server.config.SecurityConfig;
import io.p11kms.server.tls.CommonNameTrustManager;
import io.p11kms.server.tls.Tls;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;

/**
 * How an {@link HttpListener} is secured, from the same configuration as the gRPC listener: TLS
 * with the server's certificate and key files (and client certificates chained to the configured CA
 * not asked for, optional or required, optionally of one subject common name), or in development
 * mode, and only then, plaintext on loopback.
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
  private final String clientCommonName;

  private ListenerSecurity(
      SecurityConfig config, ClientCertificates clientCertificates, String clientCommonName) {
    this.config = config;
    this.clientCertificates = clientCertificates;
    this.clientCommonName = clientCommonName;
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
    return new ListenerSecurity(config, clientCertificates, "");
  }

  /**
   * This, a client certificate trusted only when its subject's common name (CN) is {@code
   * commonName} (empty: any): another one fails the TLS handshake.
   */
  public ListenerSecurity requiringCommonName(String commonName) {
    return new ListenerSecurity(config, clientCertificates, commonName);
  }

  /** Whether the listener is plaintext (development mode, loopback only). */
  public boolean plaintext() {
    return !config.tls();
  }

  public ClientCertificates clientCertificates() {
    return clientCertificates;
  }

  /**
   * The TLS handlers of the listener's connections, one each, from a context made now (so that
   * unusable files fail the start): the server's certificate, client certificates asked for as
   * chosen.
   */
  Supplier<SslHandler> tlsHandlers() {
    SSLContext context =
        clientCommonName.isEmpty()
            ? Tls.jdkContext(config)
            : Tls.jdkContext(
                config, CommonNameTrustManager.of(config.tlsClientCaFile(), clientCommonName));
    ClientCertificates asked = clientCertificates;
    return () -> {
      SSLEngine engine = context.createSSLEngine();
      engine.setUseClientMode(false);
      if (asked == ClientCertificates.REQUIRED) {
        engine.setNeedClientAuth(true);
      } else if (asked == ClientCertificates.OPTIONAL) {
        engine.setWantClientAuth(true);
      }
      return new SslHandler(engine);
    };
  }
}
