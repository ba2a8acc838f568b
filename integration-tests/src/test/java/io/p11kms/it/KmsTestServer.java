package io.p11kms.it;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.p11kms.hsm.Hsm;
import io.p11kms.hsm.HsmConfig;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.TokenCallInterceptor;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import io.p11kms.hsm.testing.TempDirs;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.server.KmsServer;
import io.p11kms.server.access.AccessControl;
import io.p11kms.server.audit.AuditLog;
import io.p11kms.server.audit.AuditSink;
import io.p11kms.server.auth.Principals;
import io.p11kms.server.awsjson.AwsApi;
import io.p11kms.server.awsjson.AwsApiConfig;
import io.p11kms.server.awsjson.AwsJsonFrontEnd;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.config.SecurityConfig;
import io.p11kms.server.grpc.AccessLayer;
import io.p11kms.server.http.ListenerSecurity.ClientCertificates;
import io.p11kms.server.sigv4.AccessKeyService;
import io.p11kms.server.store.AccessKeyScope;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyStores;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.services.kms.KmsClient;

/**
 * A real server in this JVM: a fresh SoftHSM2 token, a SQLite file, Netty on a free loopback port,
 * and a real client channel to it. The token is wrapped in {@link CountingHsm} only to count calls.
 */
final class KmsTestServer implements AutoCloseable {
  static final KeyArns ARNS = new KeyArns("aws", "local-1", "111122223333");

  private final SoftHsmTestToken token;
  private final Pkcs11Hsm pkcs11;
  private final CountingHsm hsm;
  private final Path database;
  private final KmsServer server;
  private final ManagedChannel channel;
  private final AwsJsonFrontEnd awsApi;
  private final AwsAuth awsAuth;

  /** How the AWS JSON API authenticates its callers, when it is served. */
  enum AwsAuth {
    /** Not served. */
    NONE,
    /** Development mode without access keys: every caller is local:developer. */
    DEVELOPMENT_MODE,
    /** Every request verified by its signature against the server's own access keys. */
    ACCESS_KEYS
  }

  private KmsTestServer(SoftHsmTestToken token, Clock clock) throws Exception {
    this(token, clock, TokenCallInterceptor.NONE, Duration.ofSeconds(1));
  }

  private KmsTestServer(
      SoftHsmTestToken token,
      Clock clock,
      TokenCallInterceptor interceptor,
      Duration healthInterval)
      throws Exception {
    this(token, clock, interceptor, healthInterval, token.hsmConfig());
  }

  private KmsTestServer(
      SoftHsmTestToken token,
      Clock clock,
      TokenCallInterceptor interceptor,
      Duration healthInterval,
      HsmConfig hsmConfig)
      throws Exception {
    this(token, clock, interceptor, healthInterval, hsmConfig, AwsAuth.NONE);
  }

  private KmsTestServer(
      SoftHsmTestToken token,
      Clock clock,
      TokenCallInterceptor interceptor,
      Duration healthInterval,
      HsmConfig hsmConfig,
      AwsAuth awsAuth)
      throws Exception {
    this.token = token;
    this.awsAuth = awsAuth;
    this.pkcs11 = Pkcs11Hsm.open(hsmConfig, interceptor);
    this.hsm = new CountingHsm(pkcs11);
    this.database = Files.createTempDirectory("p11kms-it-db").resolve("p11kms.db");
    KeyStore store = KeyStores.open("jdbc:sqlite:" + database);
    KmsServer built =
        new KmsServer(
            NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)),
            hsm,
            store,
            ARNS,
            clock,
            healthInterval,
            allowingAll(hsm, store, clock));
    this.server = built.start();
    // Plaintext on loopback, as development mode serves it.
    AwsApiConfig awsConfig = new AwsApiConfig(true, "127.0.0.1", 0, ClientCertificates.NONE);
    SecurityConfig loopback =
        SecurityConfig.builder(database.resolveSibling("audit.log")).devMode(true).build();
    this.awsApi =
        switch (awsAuth) {
          case NONE -> null;
          case DEVELOPMENT_MODE -> server.serveAwsApi(AwsApi.of(awsConfig, loopback, 8));
          case ACCESS_KEYS -> server.serveAwsApi(awsConfig, loopback, 8);
        };
    this.channel =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
  }

  /**
   * Access that allows every call: without TLS every caller is {@code local:developer}, an
   * administrator; its audit records are thrown away. For tests of everything but access.
   */
  static AccessLayer allowingAll(Hsm hsm, KeyStore store, Clock clock) {
    return new AccessLayer(
        AccessControl.developmentMode(
            hsm, store, ARNS, clock, AuditLog.over(AuditSink.discarding(), clock)));
  }

  static KmsTestServer start() throws Exception {
    return new KmsTestServer(SoftHsmTestToken.create(), Clock.systemUTC());
  }

  /** A server that also serves the AWS KMS JSON API, in development mode ({@link #awsApiPort}). */
  static KmsTestServer startWithAwsApi() throws Exception {
    return startWithAwsApi(AwsAuth.DEVELOPMENT_MODE);
  }

  /** A server that also serves the AWS KMS JSON API, its callers authenticated as {@code auth}. */
  static KmsTestServer startWithAwsApi(AwsAuth auth) throws Exception {
    SoftHsmTestToken token = SoftHsmTestToken.create();
    return new KmsTestServer(
        token,
        Clock.systemUTC(),
        TokenCallInterceptor.NONE,
        Duration.ofSeconds(1),
        token.hsmConfig(),
        auth);
  }

  /**
   * An AWS SDK client of the AWS JSON API: with {@link AwsAuth#ACCESS_KEYS}, signing with a new
   * access key of local:developer (an administrator here) that the server made and keeps wrapped by
   * its token; in development mode, with any key.
   */
  KmsClient awsClient() {
    if (awsAuth != AwsAuth.ACCESS_KEYS) {
      return AwsClients.developmentMode(awsApiPort());
    }
    AccessKeyService.NewAccessKey key =
        server.accessKeys().create(ARNS.account(), Principals.LOCAL, AccessKeyScope.KMS_API);
    try {
      return AwsClients.kms(
          URI.create("http://127.0.0.1:" + awsApiPort()),
          ARNS.region(),
          key.record().accessKeyId(),
          new String(key.secret()));
    } finally {
      key.clearSecret();
    }
  }

  /** The AWS JSON API's port, or -1 when it does not serve it. */
  int awsApiPort() {
    return awsApi == null ? -1 : awsApi.port();
  }

  /** A server on {@code token}, whose domain keys the caller made; closing it closes the token. */
  static KmsTestServer start(SoftHsmTestToken token) throws Exception {
    return new KmsTestServer(token, Clock.systemUTC());
  }

  /**
   * A server whose token calls go through {@code interceptor} (to inject faults) and whose health
   * probe runs every {@code healthInterval}.
   */
  static KmsTestServer start(TokenCallInterceptor interceptor, Duration healthInterval)
      throws Exception {
    return new KmsTestServer(
        SoftHsmTestToken.create(), Clock.systemUTC(), interceptor, healthInterval);
  }

  /**
   * A server whose adapter recycles its PKCS#11 library after {@code objects} objects made, probed
   * (and so recycled when due) every {@code healthInterval}.
   */
  static KmsTestServer startWithLibraryRecycle(long objects, Duration healthInterval)
      throws Exception {
    SoftHsmTestToken token = SoftHsmTestToken.create();
    return new KmsTestServer(
        token,
        Clock.systemUTC(),
        TokenCallInterceptor.NONE,
        healthInterval,
        // The cache off: every call unwraps its backing key and destroys it after, one object
        // towards the bound (AES-GCM under a cached backing key makes none).
        token.hsmConfig().withLibraryRecycle(objects).withCache(0, Duration.ofMinutes(5)));
  }

  /** The adapter under the server, for test faults and object counts. */
  Pkcs11Hsm pkcs11() {
    return pkcs11;
  }

  /** A server whose clock the test moves (see {@link MutableClock}). */
  static KmsTestServer start(Clock clock) throws Exception {
    return new KmsTestServer(SoftHsmTestToken.create(), clock);
  }

  /** Runs the background deletion task once, now, by the server's clock; how many it deleted. */
  int runDueDeletions() {
    return server.work().runDueDeletions();
  }

  /** Runs the background rotation task once, now, by the server's clock; how many it rotated. */
  int runDueRotations() {
    return server.work().runDueRotations();
  }

  /** Runs the expiry of imported key material once, now, by the server's clock; how many. */
  int runDueImportExpiries() {
    return server.work().runDueImportExpiries();
  }

  /** Destroys the expired import wrapping keys on the token once, now, by the server's clock. */
  int destroyExpiredImportWrappingKeys() {
    return server.work().destroyExpiredImportWrappingKeys();
  }

  /** Runs the domain-key re-wrap job once, now. */
  io.p11kms.server.service.DomainKeyRewrap.Result rewrapDomainKeys() {
    return server.work().rewrapDomainKeys();
  }

  /** The token as the server sees it (counting calls), for a job of the test's own. */
  io.p11kms.hsm.Hsm hsm() {
    return hsm;
  }

  KeyManagementServiceBlockingStub client() {
    return KeyManagementServiceGrpc.newBlockingStub(channel)
        .withInterceptors(PerCallDeadline.ofSeconds(30));
  }

  ManagedChannel channel() {
    return channel;
  }

  /** How many token calls the server has made so far. */
  long tokenCalls() {
    return hsm.calls();
  }

  /**
   * Objects a session of this process sees on the token, not counting the backing keys the adapter
   * keeps unwrapped in its cache (those are destroyed on eviction).
   */
  int tokenObjects() {
    return pkcs11.visibleObjectCount() - pkcs11.cachedBackingKeyCount();
  }

  Path database() {
    return database;
  }

  SoftHsmTestToken token() {
    return token;
  }

  @Override
  public void close() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.stop();
    token.close();
    TempDirs.deleteTree(database.getParent());
  }
}
