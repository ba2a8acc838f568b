package io.p11kms.server;

import io.grpc.ServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.p11kms.hsm.Hsm;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.server.access.AccessControl;
import io.p11kms.server.access.RefusalAuditLimit;
import io.p11kms.server.audit.AuditAnchor;
import io.p11kms.server.audit.AuditLog;
import io.p11kms.server.auth.PrincipalAccounts;
import io.p11kms.server.auth.Principals;
import io.p11kms.server.awsjson.AwsApi;
import io.p11kms.server.awsjson.AwsApiConfig;
import io.p11kms.server.awsjson.AwsJsonFrontEnd;
import io.p11kms.server.config.ConfigException;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.config.RegionConfig;
import io.p11kms.server.config.SecurityConfig;
import io.p11kms.server.config.ServerConfig;
import io.p11kms.server.frontend.FrontEnds;
import io.p11kms.server.grpc.AccessLayer;
import io.p11kms.server.grpc.GrpcFrontEnd;
import io.p11kms.server.metrics.Metrics;
import io.p11kms.server.region.GrpcRegionPeers;
import io.p11kms.server.region.RegionListener;
import io.p11kms.server.service.KmsServices;
import io.p11kms.server.service.RegionPeers;
import io.p11kms.server.sigv4.AccessKeyService;
import io.p11kms.server.sigv4.AccessKeySigningKeys;
import io.p11kms.server.store.AccessKeys;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyStores;
import io.p11kms.server.xks.XksConfig;
import io.p11kms.server.xks.XksFrontEnd;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service assembled: token, store and the operations ({@link KmsServices}) under one access
 * control, the front ends over them (gRPC, and, when asked, the AWS KMS JSON API and the XKS proxy
 * API), the scheduled work ({@link ScheduledWork}) and the token's health probe ({@link
 * TokenHealthProbe}, which the gRPC health service reports). Owns what it opened and closes it in
 * {@link #stop()}.
 */
public final class KmsServer {
  private static final Logger log = LoggerFactory.getLogger(KmsServer.class);

  private final ServerBuilder<?> grpcBuilder;
  private final Hsm hsm;
  private final AccessLayer access;
  private final KeyStore store;
  private final KmsServices services;
  private final String region;
  private final Duration healthInterval;
  private final ScheduledWork work;
  private final RegionPeers peers;
  private final FrontEnds frontEnds = new FrontEnds();
  private GrpcFrontEnd grpc;
  private TokenHealthProbe probe;

  /**
   * Builds the server on any transport (tests may hand in an in-process builder), probing the
   * token's health every {@code healthInterval}, with principals, key policies, grants and the
   * audit log ({@code access}, required: a server that checks nothing is one whose layer allows
   * everyone, made on purpose).
   */
  public KmsServer(
      ServerBuilder<?> builder,
      Hsm hsm,
      KeyStore store,
      KeyArns arns,
      Clock clock,
      Duration healthInterval,
      AccessLayer access) {
    this(builder, hsm, store, arns, clock, healthInterval, access, RegionPeers.NONE);
  }

  /**
   * As above, for a region peered with {@code peers} (closed by {@link #stop()} when it is {@link
   * AutoCloseable}): multi-Region keys replicate to them ({@link #serveRegion} serves their calls).
   */
  public KmsServer(
      ServerBuilder<?> builder,
      Hsm hsm,
      KeyStore store,
      KeyArns arns,
      Clock clock,
      Duration healthInterval,
      AccessLayer access,
      RegionPeers peers) {
    this.access = Objects.requireNonNull(access, "access");
    this.grpcBuilder = builder;
    this.hsm = hsm;
    this.store = store;
    this.healthInterval = healthInterval;
    this.peers = Objects.requireNonNull(peers, "peers");
    this.services = KmsServices.of(hsm, store, arns, clock, peers);
    this.region = arns.region();
    this.work = new ScheduledWork(hsm, store, services.rotations(), services.multiRegion(), clock);
  }

  /**
   * Opens the token and the store that {@code config} names and listens on its address: with mutual
   * TLS when {@code security} names the files (any listen address), else, in development mode only,
   * the loopback-only plaintext listener; with key policies, grants and the audit log. Every gRPC
   * call (request count, latency, one log line with a request id) and every token call is measured
   * in {@code metrics}.
   *
   * @throws ConfigException with neither TLS files nor development mode, before the token is opened
   */
  public static KmsServer open(ServerConfig config, SecurityConfig security, Metrics metrics) {
    Objects.requireNonNull(metrics, "metrics");
    checkListenerSecurity(config, security);
    NettyServerBuilder builder =
        GrpcListener.builder(
            config.listen().host(),
            config.listen().port(),
            security,
            config.hsm().handlerThreads(),
            metrics.interceptor());
    // The store's driver loads its native code while the token opens.
    KeyStores.preload(config.store().settings().jdbcUrl());
    Hsm hsm = metrics.instrument(Pkcs11Hsm.open(config.hsm().hsmConfig()));
    KeyStore store;
    AccessLayer access;
    try {
      store = KeyStores.open(config.store().settings(), config.store().cacheMaxKeys());
      hsm.createSigningKeyIfAbsent(security.auditKeyLabel());
      AuditLog audit =
          AuditLog.open(
              security.auditFile(),
              data -> hsm.sign(security.auditKeyLabel(), data),
              AuditAnchor.inToken(hsm, security.auditKeyLabel()),
              security.auditCheckpointRecords(),
              security.auditCheckpointInterval(),
              Clock.systemUTC());
      access =
          new AccessLayer(
              new AccessControl(
                  security.tls(),
                  security.admins(),
                  new PrincipalAccounts(
                      config.arns().account(),
                      security.accountsFile() == null
                          ? Map.of()
                          : PrincipalAccounts.readMapping(security.accountsFile())),
                  hsm,
                  store,
                  config.arns(),
                  Clock.systemUTC(),
                  audit,
                  RefusalAuditLimit.of(Clock.systemUTC(), security.refusalAudit())));
    } catch (RuntimeException e) {
      hsm.close();
      throw e;
    }
    KmsServer server =
        new KmsServer(
            builder,
            hsm,
            store,
            config.arns(),
            Clock.systemUTC(),
            config.hsm().healthInterval(),
            access,
            config.region().enabled() ? new GrpcRegionPeers(config.region()) : RegionPeers.NONE);
    server.countRotationsIn(metrics);
    metrics.countRefusalsNotAudited(access.control().refusalAuditLimit());
    return server.checkDueWorkEvery(config.tasks().interval());
  }

  /**
   * Refuses a plaintext listener nobody asked for: a missing TLS file must never make every local
   * process an administrator. Development mode, asked for by name, is announced at WARN.
   */
  private static void checkListenerSecurity(ServerConfig config, SecurityConfig security) {
    if (security.tls()) {
      return;
    }
    if (!security.devMode()) {
      throw new ConfigException(
          "no listener security configured: set "
              + SecurityConfig.TLS_CERT_FILE
              + ", "
              + SecurityConfig.TLS_KEY_FILE
              + " and "
              + SecurityConfig.TLS_CLIENT_CA_FILE
              + " for mutual TLS, or ask for development mode ("
              + SecurityConfig.DEV_MODE
              + "=true, or serve --dev): a plaintext loopback listener where every caller is "
              + Principals.LOCAL
              + ", an administrator of every key");
    }
    log.warn(
        "DEVELOPMENT MODE ({}=true or serve --dev): plaintext listener on {}:{}, every caller is"
            + " {} and an administrator of every key: any process on this host or in its network"
            + " namespace can use and decrypt every key. Never run it so on a shared host or in"
            + " production; configure mutual TLS instead.",
        SecurityConfig.DEV_MODE,
        config.listen().host(),
        config.listen().port(),
        Principals.LOCAL);
  }

  /**
   * Looks for due key deletions, rotations and expiries of imported key material every {@code
   * period} instead of every minute ({@code tasks.interval.ms}); takes effect at {@link #start()}.
   */
  public KmsServer checkDueWorkEvery(Duration period) {
    work.checkDueWorkEvery(period);
    return this;
  }

  /** Exposes this server's rotation counters (key versions made, EKTs re-wrapped) in metrics. */
  public void countRotationsIn(Metrics metrics) {
    work.countRotationsIn(metrics);
  }

  /** Serves gRPC, reports the token's health there and starts the scheduled work. */
  public KmsServer start() {
    try {
      grpc = frontEnds.add(GrpcFrontEnd.start(grpcBuilder, services, access));
    } catch (RuntimeException e) {
      close();
      throw e;
    }
    work.start();
    probe = new TokenHealthProbe(hsm, grpc::reportServing);
    probe.start(healthInterval);
    return this;
  }

  /** The background work, each job of which a test may also run now. */
  public ScheduledWork work() {
    return work;
  }

  /**
   * Creates a new domain key generation every {@code settings.interval()} (in a child JVM, as the
   * SO) and re-wraps the EKTs to it; off, with a log line saying so, when no SO PIN file is
   * configured.
   */
  public void scheduleDomainKeyRotation(
      Path configFile, DomainKeyRotationSchedule.Settings settings) {
    work.scheduleDomainKeyRotation(configFile, settings);
  }

  /** The gRPC port (useful when configured with port 0). */
  public int port() {
    return grpc().port();
  }

  private GrpcFrontEnd grpc() {
    if (grpc == null) {
      throw new IllegalStateException("not started");
    }
    return grpc;
  }

  /** Stops taking calls, lets running calls finish for a few seconds, then closes everything. */
  public void stop() {
    if (probe != null) {
      probe.close();
    }
    try {
      frontEnds.close();
    } finally {
      close();
    }
  }

  /**
   * Serves the AWS KMS JSON API beside gRPC, as {@code config} says, on the same services, access
   * control and audit log; every request is verified by its AWS Signature Version 4 against the
   * JSON API's access keys ({@code p11kms access-key create}). Closed by {@link #stop()}.
   *
   * @param handlerThreads JSON API requests handled at once
   */
  public AwsJsonFrontEnd serveAwsApi(
      AwsApiConfig config, SecurityConfig security, int handlerThreads) {
    return serveAwsApi(
        AwsApi.of(config, security, handlerThreads)
            .verifiedBy(new AccessKeySigningKeys(AccessKeys.of(store), hsm), region));
  }

  /**
   * Serves the peer regions {@code config} names on its peer listener ({@code region.listen.*},
   * mutual TLS under {@code region.tls.*}): the replicas of their multi-Region keys. Closed by
   * {@link #stop()}.
   */
  public RegionListener serveRegion(RegionConfig config) {
    return frontEnds.add(RegionListener.start(config, services.multiRegion()));
  }

  /** Serves the AWS KMS JSON API as {@code api} says. Closed by {@link #stop()}. */
  public AwsJsonFrontEnd serveAwsApi(AwsApi api) {
    return frontEnds.add(api.start(services, access.control()));
  }

  /**
   * Serves the external key store (XKS) proxy API beside gRPC, as {@code config} says, on the same
   * token, store and access control; its callers authenticate with XKS access keys ({@code p11kms
   * access-key create --xks}). Closed by {@link #stop()}.
   *
   * @param handlerThreads XKS requests handled at once
   */
  public XksFrontEnd serveXks(XksConfig config, SecurityConfig security, int handlerThreads) {
    return frontEnds.add(
        XksFrontEnd.start(
            config,
            security,
            access.control(),
            hsm,
            new AccessKeySigningKeys(AccessKeys.of(store), hsm),
            Clock.systemUTC(),
            handlerThreads));
  }

  /** The access keys in this server's store, made and read through its token. */
  public AccessKeyService accessKeys() {
    return new AccessKeyService(hsm, AccessKeys.of(store), Clock.systemUTC());
  }

  /** Waits until the gRPC server has terminated. */
  public void blockUntilShutdown() throws InterruptedException {
    grpc().awaitTermination();
  }

  private void close() {
    // A deletion in flight finishes its transaction before the store closes.
    work.close();
    try {
      store.close();
    } catch (Exception e) {
      // Closing is best effort; the token must still be closed below.
    } finally {
      closePeers();
      access.close();
      hsm.close();
    }
  }

  private void closePeers() {
    if (peers instanceof AutoCloseable channels) {
      try {
        channels.close();
      } catch (Exception e) {
        log.warn("closing the channels to the peer regions failed: {}", e.toString());
      }
    }
  }
}
