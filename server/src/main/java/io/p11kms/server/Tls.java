package io.p11kms.server;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.p11kms.server.config.SecurityConfig;
import java.net.InetSocketAddress;
import javax.net.ssl.SSLException;

/** The mutual-TLS listener: the server's certificate, and client certificates required. */
public final class Tls {
  private Tls() {}

  /** A Netty builder on {@code host:port} that requires a client certificate from the CA. */
  public static NettyServerBuilder serverBuilder(String host, int port, SecurityConfig security) {
    return NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
        .sslContext(serverContext(security));
  }

  static SslContext serverContext(SecurityConfig security) {
    try {
      return GrpcSslContexts.forServer(
              security.tlsCertFile().toFile(), security.tlsKeyFile().toFile())
          .trustManager(security.tlsClientCaFile().toFile())
          .clientAuth(ClientAuth.REQUIRE)
          .build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "cannot set up TLS from "
              + SecurityConfig.TLS_CERT_FILE
              + ", "
              + SecurityConfig.TLS_KEY_FILE
              + " and "
              + SecurityConfig.TLS_CLIENT_CA_FILE
              + ": "
              + e.getClass().getSimpleName());
    }
  }
}
