package io.p11kms.server;

import io.grpc.ServerInterceptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.p11kms.server.config.SecurityConfig;
import io.p11kms.server.tls.Tls;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The gRPC listener as configured: mutual TLS on any address when the TLS files are set ({@link
 * Tls}), else plaintext on a loopback address only; its calls handled on a bounded pool, each
 * handed to it once from the event loop ({@link HandlerHandOff}).
 */
final class GrpcListener {
  private GrpcListener() {}

  /**
   * A Netty builder on {@code host:port}, its calls' interceptors and handlers on a pool of {@code
   * handlerThreads}, {@code measure} the first interceptor there.
   *
   * @throws IllegalArgumentException for a plaintext listener whose host is not a loopback address
   */
  static NettyServerBuilder builder(
      String host,
      int port,
      SecurityConfig security,
      int handlerThreads,
      ServerInterceptor measure) {
    NettyServerBuilder builder =
        security.tls()
            ? Tls.serverBuilder(host, port, security)
            : NettyServerBuilder.forAddress(loopbackAddress(host, port));
    // The event loop runs gRPC's callbacks, and the hand-off, added last and so run first, moves
    // each call to the pool.
    return builder
        .directExecutor()
        .intercept(measure)
        .intercept(new HandlerHandOff(handlerPool(handlerThreads)));
  }

  /**
   * A bounded pool for the call handlers: the default executor makes one thread per call in flight;
   * here calls wait in the queue instead. Daemon threads: the process ends with the server.
   */
  private static ExecutorService handlerPool(int threads) {
    AtomicInteger count = new AtomicInteger();
    return Executors.newFixedThreadPool(
        threads,
        r -> {
          Thread t = new Thread(r, "p11kms-handler-" + count.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
  }

  private static InetSocketAddress loopbackAddress(String host, int port) {
    InetAddress address;
    try {
      address = InetAddress.getByName(host);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("listen.host '" + host + "' does not resolve");
    }
    if (!address.isLoopbackAddress()) {
      throw new IllegalArgumentException(
          "listen.host must be a loopback address: the plaintext listener is for local use only");
    }
    return new InetSocketAddress(address, port);
  }
}
