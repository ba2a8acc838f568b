package io.p11kms.server.awsjson;

import io.p11kms.server.access.AccessControl;
import io.p11kms.server.config.SecurityConfig;
import io.p11kms.server.http.HttpListener;
import io.p11kms.server.http.ListenerSecurity;
import io.p11kms.server.service.KmsServices;

/**
 * The AWS KMS JSON API on a listener of its own: TLS from the gRPC listener's files, or plaintext
 * on loopback in development mode, where every caller is {@code local:developer}.
 */
public final class AwsApi {
  private AwsApi() {}

  /**
   * Listens as {@code config} says and serves the API over {@code services} through {@code
   * control}.
   *
   * @param handlerThreads how many requests are handled at once
   */
  public static HttpListener start(
      AwsApiConfig config,
      SecurityConfig security,
      KmsServices services,
      AccessControl control,
      int handlerThreads) {
    ListenerSecurity listener = ListenerSecurity.of(security, config.clientCertificates());
    RequestAuthenticator authenticator =
        listener.plaintext()
            ? new DevelopmentModeAuthenticator(control)
            : (request, body) -> {
              throw new AuthenticationException(
                  "UnrecognizedClientException", "No access key is known to this server", "");
            };
    return HttpListener.start(
        "aws",
        config.host(),
        config.port(),
        listener,
        handlerThreads,
        AwsJsonHandler.of(services, control, authenticator));
  }
}
