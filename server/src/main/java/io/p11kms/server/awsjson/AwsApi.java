package io.p11kms.server.awsjson;

import io.p11kms.server.access.AccessControl;
import io.p11kms.server.config.SecurityConfig;
import io.p11kms.server.http.HttpListener;
import io.p11kms.server.http.ListenerSecurity;
import io.p11kms.server.service.KmsServices;
import io.p11kms.server.sigv4.SigV4Verifier;
import io.p11kms.server.sigv4.SigningKeys;
import java.time.Clock;
import java.util.Set;

/**
 * How the server serves the AWS KMS JSON API, on a listener of its own: TLS from the gRPC
 * listener's files, or plaintext on loopback in development mode; each request authenticated by its
 * AWS Signature Version 4 once access keys are given ({@link #verifiedBy}), else, in development
 * mode only, as {@code local:developer}.
 */
public final class AwsApi {
  private final AwsApiConfig config;
  private final SecurityConfig security;
  private final int handlerThreads;
  private final SigningKeys signingKeys;
  private final String region;

  private AwsApi(
      AwsApiConfig config,
      SecurityConfig security,
      int handlerThreads,
      SigningKeys signingKeys,
      String region) {
    this.config = config;
    this.security = security;
    this.handlerThreads = handlerThreads;
    this.signingKeys = signingKeys;
    this.region = region;
  }

  /** Not served: gRPC only. */
  public static AwsApi off() {
    return new AwsApi(AwsApiConfig.off(), null, 0, null, null);
  }

  /**
   * Served as {@code config} says (nothing when it is off), secured by {@code security} as the gRPC
   * listener is, {@code handlerThreads} requests at once.
   */
  public static AwsApi of(AwsApiConfig config, SecurityConfig security, int handlerThreads) {
    return new AwsApi(config, security, handlerThreads, null, null);
  }

  /** This, each request verified by its signature against {@code signingKeys} in {@code region}. */
  public AwsApi verifiedBy(SigningKeys signingKeys, String region) {
    return new AwsApi(config, security, handlerThreads, signingKeys, region);
  }

  public boolean enabled() {
    return config.enabled();
  }

  /** Listens and serves the API over {@code services} through {@code control}. */
  public AwsJsonFrontEnd start(KmsServices services, AccessControl control) {
    ListenerSecurity listener = ListenerSecurity.of(security, config.clientCertificates());
    return new AwsJsonFrontEnd(
        HttpListener.start(
            "aws",
            config.host(),
            config.port(),
            listener,
            handlerThreads,
            AwsJsonHandler.of(services, control, authenticator(listener, control))));
  }

  private RequestAuthenticator authenticator(ListenerSecurity listener, AccessControl control) {
    if (signingKeys != null) {
      return new SigV4Authenticator(
          new SigV4Verifier(
              signingKeys,
              Clock.systemUTC(),
              SigV4Authenticator.SERVICE,
              region,
              Set.of("x-amz-target")));
    }
    if (listener.plaintext()) {
      return new DevelopmentModeAuthenticator(control);
    }
    return (request, body) -> {
      throw new AuthenticationException(
          "UnrecognizedClientException", "No access key is known to this server", "");
    };
  }
}
