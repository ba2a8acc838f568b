package io.p11kms.server.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.p11kms.server.config.MetricsConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * {@code GET /metrics} in the Prometheus text format, on the JDK's HTTP server, loopback only. One
 * thread: a scrape is cheap and rare.
 */
public final class MetricsEndpoint implements AutoCloseable {
  private final HttpServer server;
  private final ExecutorService executor;

  private MetricsEndpoint(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /** Listens on {@code config}'s address and serves {@code registry}. */
  public static MetricsEndpoint start(MetricsConfig config, PrometheusMeterRegistry registry) {
    try {
      InetAddress address = InetAddress.getByName(config.host());
      HttpServer server = HttpServer.create(new InetSocketAddress(address, config.port()), 16);
      server.createContext("/metrics", exchange -> scrape(exchange, registry));
      ExecutorService executor =
          Executors.newSingleThreadExecutor(
              r -> {
                Thread t = new Thread(r, "p11kms-metrics");
                t.setDaemon(true);
                return t;
              });
      server.setExecutor(executor);
      server.start();
      return new MetricsEndpoint(server, executor);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen for metrics: " + e.getMessage(), e);
    }
  }

  private static void scrape(HttpExchange exchange, PrometheusMeterRegistry registry)
      throws IOException {
    try (exchange) {
      if (!"GET".equals(exchange.getRequestMethod())) {
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  /** The port it listens on (useful with port 0). */
  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
