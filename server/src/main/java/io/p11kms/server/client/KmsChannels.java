package io.p11kms.server.client;

import io.grpc.NameResolverRegistry;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import java.util.List;
import java.util.Map;

/**
 * Client channels to one or several servers: calls are spread round robin over every server that is
 * up, and a call that fails UNAVAILABLE (a server that died, a token that is unreachable) is tried
 * again, on the next server, up to {@link #MAX_ATTEMPTS} times in all within the call's deadline.
 *
 * <p>A retried call may have been carried out by the server that failed (killed after its commit,
 * before its answer): Encrypt, Decrypt and the reads are safe to repeat; a repeated CreateAlias can
 * answer AlreadyExistsException, a repeated CreateKey makes a second key, as with the AWS SDKs.
 */
public final class KmsChannels {
  /** Attempts per call, the first included: one retry on another server, then one more. */
  public static final int MAX_ATTEMPTS = 3;

  private static final StaticNameResolverProvider STATIC = new StaticNameResolverProvider();

  static {
    NameResolverRegistry.getDefaultRegistry().register(STATIC);
  }

  private KmsChannels() {}

  /**
   * A channel builder for {@code endpoints}, each {@code host:port}. One endpoint may also be any
   * gRPC target ({@code dns:///kms.example:7443} balances over all its addresses). The caller adds
   * the transport security ({@code usePlaintext()} or TLS) and builds.
   */
  public static NettyChannelBuilder forEndpoints(List<String> endpoints) {
    if (endpoints.isEmpty()) {
      throw new IllegalArgumentException("no endpoint given");
    }
    String target =
        endpoints.size() == 1
            ? endpoints.get(0)
            : StaticNameResolverProvider.target(endpoints.stream().map(Endpoint::parse).toList());
    return NettyChannelBuilder.forTarget(target)
        .defaultServiceConfig(serviceConfig())
        .disableServiceConfigLookUp()
        .enableRetry();
  }

  /**
   * Round robin over the servers; retry on UNAVAILABLE with a short backoff. (Numbers as doubles:
   * that is how the service config's JSON parser hands them to gRPC.)
   */
  static Map<String, ?> serviceConfig() {
    Map<String, Object> retry =
        Map.of(
            "maxAttempts",
            (double) MAX_ATTEMPTS,
            "initialBackoff",
            "0.05s",
            "maxBackoff",
            "0.5s",
            "backoffMultiplier",
            2.0,
            "retryableStatusCodes",
            List.of("UNAVAILABLE"));
    Map<String, Object> allMethods =
        Map.of(
            "name",
            List.of(Map.of("service", KeyManagementServiceGrpc.SERVICE_NAME)),
            "retryPolicy",
            retry);
    return Map.of(
        "loadBalancingConfig", List.of(Map.of("round_robin", Map.of())),
        "methodConfig", List.of(allMethods));
  }
}
