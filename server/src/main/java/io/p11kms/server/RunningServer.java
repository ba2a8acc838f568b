package io.p11kms.server;

import io.p11kms.server.auth.Principals;
import io.p11kms.server.awsjson.AwsApiConfig;
import io.p11kms.server.awsjson.AwsJsonFrontEnd;
import io.p11kms.server.awsjson.DevelopmentCredentials;
import io.p11kms.server.config.MetricsConfig;
import io.p11kms.server.config.SecurityConfig;
import io.p11kms.server.config.ServerConfig;
import io.p11kms.server.metrics.Metrics;
import io.p11kms.server.metrics.MetricsEndpoint;
import io.p11kms.server.region.RegionListener;
import io.p11kms.server.xks.XksConfig;
import io.p11kms.server.xks.XksFrontEnd;
import java.io.PrintStream;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code p11kms serve} runs from its properties file: the server and, as the file says, the
 * metrics endpoint, the XKS proxy API, the scheduled domain key rotation, the AWS KMS JSON API and
 * the peer regions' listener, each announced in one line. Tests start servers through it too, so
 * that they run what operators run.
 */
public final class RunningServer {
  private static final Logger log = LoggerFactory.getLogger(RunningServer.class);

  private final KmsServer server;
  private final MetricsEndpoint metricsEndpoint;
  private final AwsJsonFrontEnd awsApi;
  private final RegionListener regionListener;

  private RunningServer(
      KmsServer server,
      MetricsEndpoint metricsEndpoint,
      AwsJsonFrontEnd awsApi,
      RegionListener regionListener) {
    this.server = server;
    this.metricsEndpoint = metricsEndpoint;
    this.awsApi = awsApi;
    this.regionListener = regionListener;
  }

  /**
   * Starts everything {@code config} asks for and prints where each listens to {@code out}, ending
   * with the line {@code p11kms listening on HOST:PORT} that scripts wait for.
   *
   * @param dev development mode even if the file does not ask for it ({@code serve --dev})
   */
  public static RunningServer start(Path config, boolean dev, PrintStream out) {
    ServeConfig serve = ServeConfig.load(config, dev);
    ServerConfig serverConfig = serve.server();
    SecurityConfig security = serve.security();
    log.info("configuration: {}", serverConfig.toRedactedString());
    log.info("security: {}", security.toRedactedString());
    Metrics metrics = new Metrics();
    KmsServer server = KmsServer.open(serverConfig, security, metrics).start();
    MetricsEndpoint endpoint = null;
    try {
      MetricsConfig metricsConfig = serve.metrics();
      if (metricsConfig.enabled()) {
        endpoint = MetricsEndpoint.start(metricsConfig, metrics.registry());
        out.println(
            "p11kms metrics on http://"
                + metricsConfig.host()
                + ":"
                + endpoint.port()
                + "/metrics");
      }
      XksConfig xksConfig = serve.xks();
      if (xksConfig.enabled()) {
        XksFrontEnd xks = server.serveXks(xksConfig, security, serverConfig.hsm().handlerThreads());
        out.println(
            "p11kms XKS proxy API on "
                + (security.tls() ? "https://" : "http://")
                + xksConfig.host()
                + ":"
                + xks.port()
                + xks.basePath());
      }
      server.scheduleDomainKeyRotation(config, serve.domainKeyRotation());
      AwsJsonFrontEnd awsApi =
          serve.awsApi().enabled()
              ? serveAwsApi(server, serve.awsApi(), serverConfig, security, config, out)
              : null;
      RegionListener peers = null;
      if (serverConfig.region().enabled()) {
        peers = server.serveRegion(serverConfig.region());
        out.println(
            "p11kms region "
                + serverConfig.arns().region()
                + " serves its peers "
                + String.join(",", serverConfig.region().peers().keySet())
                + " on "
                + serverConfig.region().listenHost()
                + ":"
                + peers.port());
      }
      // Tests and scripts wait for this exact line.
      out.println("p11kms listening on " + serverConfig.listen().host() + ":" + server.port());
      out.flush();
      return new RunningServer(server, endpoint, awsApi, peers);
    } catch (RuntimeException e) {
      if (endpoint != null) {
        endpoint.close();
      }
      server.stop();
      throw e;
    }
  }

  /**
   * The AWS KMS JSON API beside gRPC; in development mode with the credentials file of
   * local:developer's access key beside the configuration file (made on the first run).
   */
  private static AwsJsonFrontEnd serveAwsApi(
      KmsServer server,
      AwsApiConfig awsApi,
      ServerConfig serverConfig,
      SecurityConfig security,
      Path configFile,
      PrintStream out) {
    AwsJsonFrontEnd listener =
        server.serveAwsApi(awsApi, security, serverConfig.hsm().handlerThreads());
    String endpoint =
        (security.tls() ? "https://" : "http://") + awsApi.host() + ":" + listener.port();
    out.println("p11kms AWS KMS API on " + endpoint);
    if (security.devMode()) {
      Path credentials =
          configFile.toAbsolutePath().resolveSibling(DevelopmentCredentials.FILE_NAME);
      String id =
          DevelopmentCredentials.ensure(
              credentials, server.accessKeys(), serverConfig.arns().account(), Principals.LOCAL);
      out.println(
          "p11kms AWS access key "
              + id
              + " of "
              + Principals.LOCAL
              + " in "
              + credentials
              + " (AWS_SHARED_CREDENTIALS_FILE)");
    }
    return listener;
  }

  /** The server. */
  public KmsServer server() {
    return server;
  }

  /** The AWS KMS JSON API's listener; null when the file does not serve it. */
  public AwsJsonFrontEnd awsApi() {
    return awsApi;
  }

  /** The peer regions' listener; null when the file names no peer region. */
  public RegionListener regionListener() {
    return regionListener;
  }

  /** Waits until the server has stopped. */
  public void blockUntilShutdown() throws InterruptedException {
    server.blockUntilShutdown();
  }

  /** Stops the metrics endpoint and the server (with every listener it serves). */
  public void stop() {
    try {
      if (metricsEndpoint != null) {
        metricsEndpoint.close();
      }
    } finally {
      server.stop();
    }
  }
}
