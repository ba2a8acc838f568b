package io.p11kms.server;

import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.p11kms.hsm.Hsm;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.config.ServerConfig;
import io.p11kms.server.grpc.KmsGrpcService;
import io.p11kms.server.service.CryptoService;
import io.p11kms.server.service.KeyService;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyStores;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.util.concurrent.TimeUnit;

/**
 * The service assembled: token, store, the operations, and the gRPC server with health and
 * reflection. Owns what it opened and closes it in {@link #stop()}.
 */
public final class KmsServer {
  private final Server server;
  private final HealthStatusManager health = new HealthStatusManager();
  private final Hsm hsm;
  private final KeyStore store;

  /** Builds the server on any transport: tests may hand in an in-process builder. */
  public KmsServer(ServerBuilder<?> builder, Hsm hsm, KeyStore store, KeyArns arns, Clock clock) {
    this.hsm = hsm;
    this.store = store;
    KeyService keys = new KeyService(hsm, store, arns, clock);
    CryptoService crypto = new CryptoService(hsm, store, keys);
    this.server =
        builder
            .addService(new KmsGrpcService(keys, crypto))
            .addService(health.getHealthService())
            .addService(ProtoReflectionServiceV1.newInstance())
            .build();
  }

  /**
   * Opens the token and the store that {@code config} names and listens on its address. The
   * plaintext listener binds to loopback only.
   */
  public static KmsServer open(ServerConfig config) {
    InetSocketAddress address = loopbackAddress(config.listenHost(), config.listenPort());
    Hsm hsm = Pkcs11Hsm.open(config.hsmConfig());
    KeyStore store;
    try {
      store = KeyStores.open(config.jdbcUrl());
    } catch (RuntimeException e) {
      hsm.close();
      throw e;
    }
    return new KmsServer(
        NettyServerBuilder.forAddress(address), hsm, store, config.keyArns(), Clock.systemUTC());
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

  public KmsServer start() {
    try {
      server.start();
    } catch (IOException e) {
      close();
      throw new UncheckedIOException("cannot listen: " + e.getMessage(), e);
    }
    health.setStatus("", ServingStatus.SERVING);
    health.setStatus(KeyManagementServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
    return this;
  }

  /** The port it listens on (useful when configured with port 0). */
  public int port() {
    return server.getPort();
  }

  /** Stops taking calls, lets running calls finish for a few seconds, then closes everything. */
  public void stop() {
    health.enterTerminalState();
    server.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    } finally {
      close();
    }
  }

  public void blockUntilShutdown() throws InterruptedException {
    server.awaitTermination();
  }

  private void close() {
    try {
      store.close();
    } catch (Exception e) {
      // Closing is best effort; the token must still be closed below.
    } finally {
      hsm.close();
    }
  }
}
