package io.p11kms.server.http;

import io.p11kms.server.config.ConfigException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.cert.X509Certificate;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * One HTTP/1.1 listener (Jetty's core API, no servlets) serving one front end's {@link Handler}:
 * with TLS from the server's certificate files ({@link ListenerSecurity#tls}, client certificates
 * not asked for, optional or required), or, in development mode only, plaintext on a loopback
 * address ({@link ListenerSecurity#loopbackPlaintext}). The handler runs on the listener's own
 * bounded pool of threads and may block (token calls do). Neither the server's version nor a stack
 * trace is ever sent.
 */
public final class HttpListener implements AutoCloseable {
  /** Threads Jetty keeps for itself beside the handler threads: acceptor and selector. */
  private static final int OWN_THREADS = 4;

  private final Server server;
  private final ServerConnector connector;

  private HttpListener(Server server, ServerConnector connector) {
    this.server = server;
    this.connector = connector;
  }

  /**
   * Listens on {@code host:port} (port 0: any free port) and serves {@code handler}.
   *
   * @param name names the listener's threads ({@code p11kms-<name>-...})
   * @param handlerThreads how many requests are handled at once; more wait in the queue
   * @throws ConfigException when the security does not allow the address (plaintext off loopback)
   * @throws IllegalStateException when it cannot listen
   */
  public static HttpListener start(
      String name,
      String host,
      int port,
      ListenerSecurity security,
      int handlerThreads,
      Handler handler) {
    ErrorHandler errors = new ErrorHandler();
    errors.setShowStacks(false);
    errors.setShowCauses(false);
    errors.setShowMessageInTitle(false);
    return start(name, host, port, security, handlerThreads, handler, errors);
  }

  /**
   * As above, with the front end's own answer to the requests Jetty refuses before the handler sees
   * them (a malformed request line or path, headers too large), in its wire format.
   */
  public static HttpListener start(
      String name,
      String host,
      int port,
      ListenerSecurity security,
      int handlerThreads,
      Handler handler,
      ErrorHandler errors) {
    if (security.plaintext()) {
      requireLoopback(host);
    }
    QueuedThreadPool threads = new QueuedThreadPool(handlerThreads + OWN_THREADS, 2);
    threads.setName("p11kms-" + name);
    threads.setDaemon(true);
    Server server = new Server(threads);
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    http.setSendXPoweredBy(false);
    ServerConnector connector;
    if (security.plaintext()) {
      connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(http));
    } else {
      SecureRequestCustomizer secure = new SecureRequestCustomizer();
      // Clients reach a self-hosted server by whatever name or address they know it by.
      secure.setSniHostCheck(false);
      http.addCustomizer(secure);
      connector =
          new ServerConnector(
              server,
              1,
              1,
              new SslConnectionFactory(
                  security.sslContextFactory(), HttpVersion.HTTP_1_1.asString()),
              new HttpConnectionFactory(http));
    }
    connector.setHost(host);
    connector.setPort(port);
    server.addConnector(connector);
    server.setErrorHandler(errors);
    server.setHandler(handler);
    try {
      server.start();
    } catch (Exception e) {
      stopQuietly(server);
      throw new IllegalStateException(
          "cannot listen on " + host + ":" + port + " (" + name + "): " + e.getMessage());
    }
    return new HttpListener(server, connector);
  }

  /** The port it listens on (useful when started with port 0). */
  public int port() {
    return connector.getLocalPort();
  }

  /**
   * The client's verified certificate on a TLS listener that asked for one, or null (none sent, or
   * plaintext).
   */
  public static X509Certificate clientCertificate(Request request) {
    if (request.getAttribute(EndPoint.SslSessionData.ATTRIBUTE)
        instanceof EndPoint.SslSessionData tls) {
      X509Certificate[] chain = tls.peerCertificates();
      return chain == null || chain.length == 0 ? null : chain[0];
    }
    return null;
  }

  /** Stops taking requests, lets running ones finish for a few seconds, and stops. */
  @Override
  public void close() {
    stopQuietly(server);
  }

  private static void stopQuietly(Server server) {
    try {
      server.setStopTimeout(5_000);
      server.stop();
    } catch (Exception e) {
      // Stopping is best effort: the process is going away or the start already failed.
    }
  }

  private static void requireLoopback(String host) {
    InetAddress address;
    try {
      address = InetAddress.getByName(host);
    } catch (UnknownHostException e) {
      throw new ConfigException("listen address '" + host + "' does not resolve");
    }
    if (!address.isLoopbackAddress()) {
      throw new ConfigException(
          "a plaintext listener binds to a loopback address only, not " + host);
    }
  }
}
