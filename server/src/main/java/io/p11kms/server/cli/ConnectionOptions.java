package io.p11kms.server.cli;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.p11kms.server.client.KmsChannels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import picocli.CommandLine.Option;

/**
 * Where the servers are and how to reach them: {@code --endpoint} (one, or several to balance over:
 * see {@link KmsChannels}), and TLS with {@code --ca} (trust), {@code --cert} / {@code --key} (a
 * client certificate for mutual TLS). Without {@code --ca} and {@code --tls} the channel is
 * plaintext (the development listener on loopback).
 */
public final class ConnectionOptions {
  @Option(
      names = "--endpoint",
      paramLabel = "HOST:PORT",
      defaultValue = "${env:P11KMS_ENDPOINT:-127.0.0.1:7443}",
      description =
          "host:port of the server (default: $P11KMS_ENDPOINT or ${DEFAULT-VALUE}). Several"
              + " servers: repeat the option or separate them with commas; calls are spread round"
              + " robin over the servers that are up, and a call that fails UNAVAILABLE is tried"
              + " again on another (up to 3 attempts within --timeout).")
  List<String> endpointOptions;

  @Option(names = "--tls", description = "Use TLS, trusting the system's CAs unless --ca is given.")
  boolean tls;

  @Option(names = "--ca", description = "PEM file of the CA(s) that signed the server certificate.")
  Path ca;

  @Option(names = "--cert", description = "PEM client certificate (chain) for mutual TLS.")
  Path cert;

  @Option(names = "--key", description = "PEM (PKCS#8) private key of --cert.")
  Path key;

  @Option(
      names = "--authority",
      description = "Server name to verify in its certificate, if not the endpoint's host.")
  String authority;

  @Option(
      names = "--timeout",
      defaultValue = "30",
      description = "Seconds to wait for each call (default ${DEFAULT-VALUE}).")
  long timeoutSeconds;

  /** Opens a channel as the options say. */
  public ManagedChannel open() {
    if ((cert == null) != (key == null)) {
      throw new CliException("--cert and --key go together");
    }
    NettyChannelBuilder builder;
    try {
      builder = KmsChannels.forEndpoints(endpoints());
    } catch (IllegalArgumentException e) {
      throw new CliException("--endpoint: " + e.getMessage());
    }
    if (tls || ca != null || cert != null) {
      try {
        SslContextBuilder ssl = GrpcSslContexts.forClient();
        if (ca != null) {
          ssl.trustManager(ca.toFile());
        }
        if (cert != null) {
          ssl.keyManager(cert.toFile(), key.toFile());
        }
        builder.sslContext(ssl.build()).useTransportSecurity();
      } catch (SSLException | IllegalArgumentException e) {
        throw new CliException("cannot set up TLS: " + e.getMessage());
      }
      if (authority != null) {
        builder.overrideAuthority(authority);
      }
    } else {
      builder.usePlaintext();
    }
    return builder.build();
  }

  long timeoutSeconds() {
    return timeoutSeconds;
  }

  /** Every endpoint of every {@code --endpoint}, in order; an empty one is refused. */
  List<String> endpoints() {
    List<String> endpoints = new ArrayList<>();
    for (String option : endpointOptions) {
      for (String endpoint : option.split(",", -1)) {
        if (endpoint.isBlank()) {
          throw new CliException("--endpoint: empty endpoint in '" + option + "'");
        }
        endpoints.add(endpoint.strip());
      }
    }
    return endpoints;
  }

  /** The endpoints as given, comma-separated, for messages. */
  String endpoint() {
    return String.join(",", endpointOptions);
  }

  static void shutdown(ManagedChannel channel) {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
