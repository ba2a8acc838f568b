package io.p11kms.server.tls;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.JdkSslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import io.p11kms.server.config.SecurityConfig;
import java.net.InetSocketAddress;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;

/**
 * TLS of the listeners: the gRPC listener's mutual TLS (the server's certificate, client
 * certificates required), and the same files as a JDK {@link SSLContext} for the HTTP listeners.
 */
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
      throw unusable(e);
    }
  }

  /**
   * The server's certificate and key, and the client CA as the trusted issuers, as a JDK context;
   * whether a client certificate is asked for is the listener's choice.
   */
  public static SSLContext jdkContext(SecurityConfig security) {
    return jdkContext(security, null);
  }

  /**
   * As {@link #jdkContext(SecurityConfig)}, client certificates checked by {@code clients} (null:
   * the client CA's chain check only) in the TLS handshake.
   */
  public static SSLContext jdkContext(SecurityConfig security, TrustManager clients) {
    try {
      SslContextBuilder builder =
          SslContextBuilder.forServer(
              security.tlsCertFile().toFile(), security.tlsKeyFile().toFile());
      if (clients == null) {
        builder.trustManager(security.tlsClientCaFile().toFile());
      } else {
        builder.trustManager(clients);
      }
      SslContext context = builder.sslProvider(SslProvider.JDK).build();
      return ((JdkSslContext) context).context();
    } catch (SSLException | IllegalArgumentException e) {
      throw unusable(e);
    }
  }

  private static IllegalArgumentException unusable(Exception e) {
    return new IllegalArgumentException(
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
