package io.p11kms.server.region;

import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.p11kms.server.config.RegionConfig;
import io.p11kms.server.frontend.FrontEnd;
import io.p11kms.server.grpc.PrincipalInterceptor;
import io.p11kms.server.service.MultiRegionService;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * The peer listener: the {@code RegionPeer} gRPC service alone, on its own address ({@code
 * region.listen.*}), always with mutual TLS under this region's identity ({@code region.tls.*}): a
 * peer's certificate must chain to the regions' CA and name a configured peer's principal. Apart
 * from the KMS listener, so that no KMS client certificate reaches it and no peer reaches the KMS
 * API through it.
 */
public final class RegionListener implements FrontEnd {
  private final Server server;

  private RegionListener(Server server) {
    this.server = server;
  }

  /**
   * Listens on {@code config}'s peer address for the peers it names.
   *
   * @throws IllegalArgumentException when the TLS files are unusable
   * @throws UncheckedIOException when it cannot listen
   */
  public static RegionListener start(RegionConfig config, MultiRegionService regions) {
    Server server;
    try {
      server =
          NettyServerBuilder.forAddress(
                  new InetSocketAddress(config.listenHost(), config.listenPort()))
              .sslContext(
                  GrpcSslContexts.forServer(config.cert().toFile(), config.key().toFile())
                      .trustManager(config.caFile().toFile())
                      .clientAuth(ClientAuth.REQUIRE)
                      .build())
              .addService(
                  ServerInterceptors.intercept(
                      new RegionPeerGrpcService(config, regions), new PrincipalInterceptor(true)))
              .build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "cannot set up the peer listener's TLS from "
              + RegionConfig.TLS_CERT_FILE
              + ", "
              + RegionConfig.TLS_KEY_FILE
              + " and "
              + RegionConfig.TLS_CA_FILE
              + ": "
              + e.getClass().getSimpleName());
    }
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "the peer listener cannot listen on "
              + config.listenHost()
              + ":"
              + config.listenPort()
              + ": "
              + e.getMessage(),
          e);
    }
    return new RegionListener(server);
  }

  @Override
  public int port() {
    return server.getPort();
  }

  @Override
  public void close() {
    server.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
