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
import io.p11kms.server.access.AccessControl;
import io.p11kms.server.audit.AuditAnchor;
import io.p11kms.server.audit.AuditLog;
import io.p11kms.server.auth.PrincipalAccounts;
import io.p11kms.server.auth.Principals;
import io.p11kms.server.config.ConfigException;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.config.SecurityConfig;
import io.p11kms.server.config.ServerConfig;
import io.p11kms.server.grpc.AccessLayer;
import io.p11kms.server.grpc.AsymmetricHandlers;
import io.p11kms.server.grpc.ImportHandlers;
import io.p11kms.server.grpc.KmsGrpcService;
import io.p11kms.server.grpc.LifecycleHandlers;
import io.p11kms.server.grpc.RotationHandlers;
import io.p11kms.server.metrics.Metrics;
import io.p11kms.server.service.AliasService;
import io.p11kms.server.service.CryptoService;
import io.p11kms.server.service.DataKeyPairService;
import io.p11kms.server.service.DeletionTask;
import io.p11kms.server.service.DomainKeyRewrap;
import io.p11kms.server.service.ImportExpiry;
import io.p11kms.server.service.ImportService;
import io.p11kms.server.service.KeyLifecycleService;
import io.p11kms.server.service.KeyRotationService;
import io.p11kms.server.service.KeyService;
import io.p11kms.server.service.LeasedRunner;
import io.p11kms.server.service.MacService;
import io.p11kms.server.service.SigningService;
import io.p11kms.server.service.TagService;
import io.p11kms.server.sigv4.AccessKeySigningKeys;
import io.p11kms.server.store.AccessKeys;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyStores;
import io.p11kms.server.store.Leases;
import io.p11kms.server.xks.XksConfig;
import io.p11kms.server.xks.XksFrontEnd;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service assembled: token, store, the operations, the gRPC server with health and reflection,
 * and the background task that deletes keys whose deletion window has passed. Owns what it opened
 * and closes it in {@link #stop()}.
 *
 * <p>Health: a probe asks the token {@link Hsm#isHealthy()} every health interval (the adapter
 * recovers the token if it can) and sets the gRPC health status to NOT_SERVING while the token
 * cannot be used, SERVING again once it can.
 */
public final class KmsServer {
  private static final Logger log = LoggerFactory.getLogger(KmsServer.class);

  /** How often the deletion task looks for keys whose window has passed. */
  static final Duration DELETION_PERIOD = Duration.ofMinutes(1);

  /** How often the rotation task looks for keys whose automatic rotation is due. */
  static final Duration ROTATION_PERIOD = Duration.ofMinutes(1);

  /**
   * How often the server looks for a newer domain key generation on the token (made by {@code
   * p11kms rotate-domain-key}) and re-wraps the EKTs still under older ones.
   */
  static final Duration REWRAP_PERIOD = Duration.ofHours(1);

  /** How often each server destroys the import wrapping keys on its token past their 24 hours. */
  static final Duration IMPORT_SWEEP_PERIOD = Duration.ofMinutes(10);

  private final Server server;
  private final DeletionTask deletions;
  private final ImportExpiry imports;
  private final KeyRotationService rotations;
  private final DomainKeyRewrap rewrap;
  private final LeasedRunner leader;
  private final ScheduledExecutorService scheduler;
  private final HealthStatusManager health = new HealthStatusManager();
  private final Hsm hsm;
  private final AccessLayer access;
  private final KeyStore store;
  private final Duration healthInterval;
  private final ScheduledExecutorService probe =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "p11kms-health");
            t.setDaemon(true);
            return t;
          });

  /** HTTP front ends serving beside gRPC; closed before the store and the token. */
  private final java.util.List<AutoCloseable> frontEnds = new java.util.ArrayList<>();

  private ServingStatus reported = ServingStatus.SERVING;
  private Duration deletionPeriod = DELETION_PERIOD;
  private Duration rotationPeriod = ROTATION_PERIOD;

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
    this.access = java.util.Objects.requireNonNull(access, "access");
    this.hsm = hsm;
    this.store = store;
    this.healthInterval = healthInterval;
    KeyService keys = new KeyService(hsm, store, arns, clock);
    CryptoService crypto = new CryptoService(hsm, store, keys);
    LifecycleHandlers lifecycle =
        new LifecycleHandlers(
            keys,
            new KeyLifecycleService(store, keys, clock),
            new AliasService(store, keys, arns, clock),
            new TagService(store, keys));
    this.deletions = new DeletionTask(store, clock);
    this.imports = new ImportExpiry(hsm, store, clock);
    this.rotations = new KeyRotationService(hsm, store, keys, clock);
    this.rewrap = new DomainKeyRewrap(hsm, store, clock);
    this.leader =
        new LeasedRunner(
            Leases.of(store), LeasedRunner.newOwnerId(), clock, LeasedRunner.DEFAULT_LEASE);
    this.scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "p11kms-key-deletion");
              t.setDaemon(true);
              return t;
            });
    this.server =
        AccessLayer.install(builder, access)
            .addService(
                new KmsGrpcService(
                    keys,
                    crypto,
                    lifecycle,
                    new RotationHandlers(rotations),
                    new AsymmetricHandlers(
                        keys,
                        new SigningService(hsm, store, keys),
                        new MacService(hsm, store, keys),
                        new DataKeyPairService(hsm, keys, crypto)),
                    new ImportHandlers(new ImportService(hsm, store, keys, clock))))
            .addService(health.getHealthService())
            .addService(ProtoReflectionServiceV1.newInstance())
            .build();
  }

  /**
   * Opens the token and the store that {@code config} names and listens on its address: with mutual
   * TLS when {@code security} names the files (any listen address), else, in development mode only,
   * the loopback-only plaintext listener; with key policies, grants and the audit log.
   *
   * @throws ConfigException with neither TLS files nor development mode, before the token is opened
   */
  public static KmsServer open(ServerConfig config, SecurityConfig security) {
    return open(config, security, null);
  }

  /**
   * As {@link #open(ServerConfig, SecurityConfig)}; when {@code metrics} is not null, every gRPC
   * call (request count, latency, one log line with a request id) and every token call is measured.
   */
  public static KmsServer open(ServerConfig config, SecurityConfig security, Metrics metrics) {
    checkListenerSecurity(config, security);
    NettyServerBuilder builder =
        security.tls()
            ? Tls.serverBuilder(config.listenHost(), config.listenPort(), security)
            : NettyServerBuilder.forAddress(
                loopbackAddress(config.listenHost(), config.listenPort()));
    builder.executor(handlerThreads(config.hsmSessionPoolSize()));
    Hsm opened = Pkcs11Hsm.open(config.hsmConfig());
    Hsm hsm = metrics == null ? opened : metrics.instrument(opened);
    if (metrics != null) {
      builder.intercept(metrics.interceptor());
    }
    KeyStore store;
    AccessLayer access;
    try {
      store = KeyStores.open(config.storeSettings());
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
                      config.keyArns().account(),
                      security.accountsFile() == null
                          ? java.util.Map.of()
                          : PrincipalAccounts.readMapping(security.accountsFile())),
                  hsm,
                  store,
                  config.keyArns(),
                  Clock.systemUTC(),
                  audit));
    } catch (RuntimeException e) {
      hsm.close();
      throw e;
    }
    KmsServer server =
        new KmsServer(
            builder,
            hsm,
            store,
            config.keyArns(),
            Clock.systemUTC(),
            config.hsmHealthInterval(),
            access);
    if (metrics != null) {
      server.countRotationsIn(metrics);
    }
    return server.checkDueWorkEvery(config.tasksInterval());
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
        config.listenHost(),
        config.listenPort(),
        Principals.LOCAL);
  }

  /**
   * Looks for due key deletions, rotations and expiries of imported key material every {@code
   * period} instead of every minute ({@code tasks.interval.ms}); takes effect at {@link #start()}.
   */
  public KmsServer checkDueWorkEvery(Duration period) {
    this.deletionPeriod = period;
    this.rotationPeriod = period;
    return this;
  }

  /** Exposes this server's rotation counters (key versions made, EKTs re-wrapped) in metrics. */
  public void countRotationsIn(Metrics metrics) {
    metrics.countRotations(rotations, rewrap);
  }

  /**
   * A bounded pool for the call handlers, twice the token's session pool. The default executor
   * makes one thread per call in flight, and under load they pile up on the session pool and cost
   * more in switching than they add; here calls wait in the queue instead. Daemon threads: the
   * process ends with the server.
   */
  private static ExecutorService handlerThreads(int sessionPoolSize) {
    AtomicInteger count = new AtomicInteger();
    return Executors.newFixedThreadPool(
        Math.max(4, 2 * sessionPoolSize),
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

  public KmsServer start() {
    try {
      server.start();
    } catch (IOException e) {
      close();
      throw new UncheckedIOException("cannot listen: " + e.getMessage(), e);
    }
    health.setStatus("", ServingStatus.SERVING);
    health.setStatus(KeyManagementServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
    // Servers sharing a database take turns: each kind of work runs where its lease is held.
    scheduleLeased("key-deletion", deletions::runDueDeletions, deletionPeriod);
    scheduleLeased("key-rotation", rotations::runDueRotations, rotationPeriod);
    scheduleLeased("domain-key-rewrap", rewrap::run, REWRAP_PERIOD);
    scheduleLeased("imported-material-expiry", imports::runDueExpiries, deletionPeriod);
    // Each server's own token: not under the lease.
    scheduler.scheduleWithFixedDelay(
        () -> {
          try {
            imports.destroyExpiredWrappingKeys();
          } catch (RuntimeException e) {
            log.error("destroying expired import wrapping keys failed: {}", e.getMessage());
          }
        },
        IMPORT_SWEEP_PERIOD.toMillis(),
        IMPORT_SWEEP_PERIOD.toMillis(),
        TimeUnit.MILLISECONDS);
    long millis = healthInterval.toMillis();
    probe.scheduleWithFixedDelay(this::probeToken, millis, millis, TimeUnit.MILLISECONDS);
    return this;
  }

  private void scheduleLeased(String name, Runnable work, Duration period) {
    scheduler.scheduleWithFixedDelay(
        () -> {
          try {
            leader.runIfHolder(name, work);
          } catch (RuntimeException e) {
            // A failed run must not end the schedule: the next run tries again.
            log.error("scheduled {} failed: {}", name, e.getMessage());
          }
        },
        period.toMillis(),
        period.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /** One health probe: reports a change of the token's state to the gRPC health service. */
  private synchronized void probeToken() {
    boolean healthy;
    try {
      healthy = hsm.isHealthy();
    } catch (RuntimeException e) {
      healthy = false;
    }
    ServingStatus status = healthy ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    if (status != reported && !probe.isShutdown()) {
      reported = status;
      health.setStatus("", status);
      health.setStatus(KeyManagementServiceGrpc.SERVICE_NAME, status);
      if (healthy) {
        log.info("token usable again: health SERVING");
      } else {
        log.warn("token unusable: health NOT_SERVING");
      }
    }
  }

  /**
   * Deletes, now, the keys whose deletion window has passed by the server's clock; what the
   * background task does every {@link #DELETION_PERIOD}. Returns how many were deleted.
   */
  public int runDueDeletions() {
    return deletions.runDueDeletions();
  }

  /**
   * Rotates, now, the keys whose automatic rotation is due by the server's clock; what the
   * background task does every {@link #ROTATION_PERIOD}. Returns how many were rotated.
   */
  public int runDueRotations() {
    return rotations.runDueRotations();
  }

  /**
   * Deletes the imported key material whose ValidTo has come, now, by the server's clock (the
   * scheduled work does this every {@link #checkDueWorkEvery} period); returns how many keys lost
   * their material.
   */
  public int runDueImportExpiries() {
    return imports.runDueExpiries();
  }

  /** Destroys the import wrapping keys on the token past their 24 hours, now; how many. */
  public int destroyExpiredImportWrappingKeys() {
    return imports.destroyExpiredWrappingKeys();
  }

  /**
   * Re-wraps, now, every EKT under an older domain key generation to the newest one on the token;
   * what the background task does every {@link #REWRAP_PERIOD}.
   */
  public DomainKeyRewrap.Result rewrapDomainKeys() {
    return rewrap.run();
  }

  /**
   * Creates a new domain key generation every {@code settings.interval()} (in a child JVM, as the
   * SO) and re-wraps the EKTs to it; off, with a log line saying so, when no SO PIN file is
   * configured.
   */
  public void scheduleDomainKeyRotation(
      java.nio.file.Path configFile, DomainKeyRotationSchedule.Settings settings) {
    if (settings.soPinFile().isEmpty()) {
      log.info(
          "domain key rotation by the server: off ({} not set); rotate with p11kms"
              + " rotate-domain-key",
          DomainKeyRotationSchedule.SO_PIN_FILE);
      return;
    }
    DomainKeyRotationSchedule schedule =
        new DomainKeyRotationSchedule(configFile, settings.soPinFile().get(), rewrap::run);
    long millis = settings.interval().toMillis();
    scheduler.scheduleWithFixedDelay(
        () -> {
          try {
            schedule.rotate();
          } catch (RuntimeException e) {
            log.error("scheduled domain key rotation failed: {}", e.getMessage());
          }
        },
        millis,
        millis,
        TimeUnit.MILLISECONDS);
    log.info("domain key rotation by the server: every {} h", settings.interval().toHours());
  }

  /** The port it listens on (useful when configured with port 0). */
  public int port() {
    return server.getPort();
  }

  /** Stops taking calls, lets running calls finish for a few seconds, then closes everything. */
  public void stop() {
    closeFrontEnds();
    probe.shutdownNow();
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

  /**
   * Serves the external key store (XKS) proxy API beside gRPC, as {@code config} says, on the same
   * token, store and access control; its callers authenticate with XKS access keys ({@code p11kms
   * access-key create --xks}). Closed by {@link #stop()}.
   *
   * @param handlerThreads XKS requests handled at once
   */
  public XksFrontEnd serveXks(XksConfig config, SecurityConfig security, int handlerThreads) {
    XksFrontEnd xks =
        XksFrontEnd.start(
            config,
            security,
            access.control(),
            hsm,
            new AccessKeySigningKeys(AccessKeys.of(store), hsm),
            Clock.systemUTC(),
            handlerThreads);
    synchronized (frontEnds) {
      frontEnds.add(xks);
    }
    return xks;
  }

  private void closeFrontEnds() {
    synchronized (frontEnds) {
      for (AutoCloseable frontEnd : frontEnds) {
        try {
          frontEnd.close();
        } catch (Exception e) {
          log.warn("closing a front end failed: {}", e.toString());
        }
      }
      frontEnds.clear();
    }
  }

  public void blockUntilShutdown() throws InterruptedException {
    server.awaitTermination();
  }

  private void close() {
    scheduler.shutdownNow();
    try {
      // A deletion in flight finishes its transaction before the store closes.
      scheduler.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    leader.close();
    try {
      store.close();
    } catch (Exception e) {
      // Closing is best effort; the token must still be closed below.
    } finally {
      access.close();
      hsm.close();
    }
  }
}
