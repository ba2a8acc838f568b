package io.p11kms.server.xks;

import io.p11kms.hsm.Hsm;
import io.p11kms.server.access.AccessControl;
import io.p11kms.server.config.SecurityConfig;
import io.p11kms.server.frontend.FrontEnd;
import io.p11kms.server.http.HttpListener;
import io.p11kms.server.http.ListenerSecurity;
import io.p11kms.server.service.XksHealthCheck;
import io.p11kms.server.service.XksService;
import io.p11kms.server.sigv4.SigV4Verifier;
import io.p11kms.server.sigv4.SigningKeys;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;

/**
 * The external key store (XKS) proxy API, assembled: its own HTTP listener ({@link HttpListener},
 * TLS from the server's certificate files, client certificates as {@link XksConfig} asks, plaintext
 * on loopback in development mode only), SigV4 with service {@code kms-xks-proxy} in any region,
 * the cached deep health check, and {@link XksHandler} over the service's {@link AccessControl}.
 */
public final class XksFrontEnd implements FrontEnd {
  /** The service name in the credential scope of every request AWS KMS signs for its proxy. */
  public static final String SIGNING_SERVICE = "kms-xks-proxy";

  /** The oldest cached health check GetHealthStatus answers with, the specification's. */
  static final Duration HEALTH_MAX_AGE = Duration.ofMinutes(1);

  private final HttpListener listener;
  private final XksHealthCheck health;
  private final String basePath;

  private XksFrontEnd(HttpListener listener, XksHealthCheck health, String basePath) {
    this.listener = listener;
    this.health = health;
    this.basePath = basePath;
  }

  /**
   * Listens as {@code config} says.
   *
   * @param signingKeys the XKS credentials' signing keys
   * @param handlerThreads requests handled at once (the token's session pool is the limit anyway)
   */
  public static XksFrontEnd start(
      XksConfig config,
      SecurityConfig security,
      AccessControl control,
      Hsm hsm,
      SigningKeys signingKeys,
      Clock clock,
      int handlerThreads) {
    XksHealthCheck health = new XksHealthCheck(hsm, clock, config.healthRefresh(), HEALTH_MAX_AGE);
    try {
      XksHandler handler =
          new XksHandler(
              config.basePath(),
              new SigV4Verifier(signingKeys, clock, SIGNING_SERVICE, null, Set.of()),
              control,
              new XksService(hsm),
              new XksHealthReport(health, config.fleetSize()));
      HttpListener listener =
          HttpListener.start(
              "xks",
              config.host(),
              config.port(),
              ListenerSecurity.of(security, config.clientCertificates())
                  .requiringCommonName(config.clientCommonName()),
              handlerThreads,
              config.maxInFlight(),
              handler);
      return new XksFrontEnd(listener, health, config.basePath());
    } catch (RuntimeException e) {
      health.close();
      throw e;
    }
  }

  @Override
  public int port() {
    return listener.port();
  }

  /** {@code [/<prefix>]/kms/xks/v1}, the XksProxyUriPath to give AWS KMS. */
  public String basePath() {
    return basePath;
  }

  @Override
  public void close() {
    listener.close();
    health.close();
  }
}
