package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.p11kms.hsm.HsmConfig;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.TokenCallInterceptor;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import io.p11kms.hsm.testing.TempDirs;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.server.KmsServer;
import io.p11kms.server.access.AccessControl;
import io.p11kms.server.access.Caller;
import io.p11kms.server.access.RefusalAuditLimit;
import io.p11kms.server.audit.AuditAnchor;
import io.p11kms.server.audit.AuditLog;
import io.p11kms.server.auth.PrincipalAccounts;
import io.p11kms.server.awsjson.AwsApi;
import io.p11kms.server.awsjson.AwsApiConfig;
import io.p11kms.server.awsjson.AwsJsonFrontEnd;
import io.p11kms.server.config.RefusalAuditConfig;
import io.p11kms.server.config.SecurityConfig;
import io.p11kms.server.grpc.AccessLayer;
import io.p11kms.server.http.ListenerSecurity.ClientCertificates;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyStores;
import io.p11kms.server.tls.Tls;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;

/**
 * A real server in this JVM as it runs in production: mutual TLS on a real loopback port, the
 * access layer (principals, key policies, grants) and the audit log signed by a token key. The
 * certificates are made at test time ({@link TestPki}): an administrator and three principals
 * ({@link #ALICE}, {@link #BOB}, {@link #CAROL}), an expired client certificate and one signed by
 * another CA.
 */
final class KmsSecureTestServer implements AutoCloseable {
  /**
   * The bounds on recorded refusals ({@code audit.refused.*}): not the defaults, so that a test of
   * the bound sees the configured one; above them, so that tests of single refusals see theirs.
   */
  static final RefusalAuditConfig REFUSAL_AUDIT = new RefusalAuditConfig(75, 1500);

  static final String ADMIN = "spiffe://p11kms.test/admin";
  static final String ALICE = "spiffe://p11kms.test/alice";
  static final String BOB = "spiffe://p11kms.test/bob";
  static final String CAROL = "spiffe://p11kms.test/carol";
  static final String AUDIT_KEY = "audit-key";

  private final SoftHsmTestToken token;
  private final Path dir;
  private final TestPki pki;
  private final TestPki rogue;
  private final Path auditFile;
  private final SecurityConfig security;
  private final int checkpointRecords;
  private final TokenCallInterceptor interceptor;
  private final Duration callTimeout;
  private Pkcs11Hsm hsm;
  private KeyStore store;
  private AccessLayer access;
  private KmsServer server;
  private final TestAccessKeys accessKeys = new TestAccessKeys("kms");
  private AwsJsonFrontEnd awsApi;
  private final List<ManagedChannel> channels = new ArrayList<>();
  private boolean stopped;

  private KmsSecureTestServer(int checkpointRecords) throws Exception {
    this(checkpointRecords, TokenCallInterceptor.NONE, null);
  }

  private KmsSecureTestServer(
      int checkpointRecords, TokenCallInterceptor interceptor, Duration callTimeout)
      throws Exception {
    this.token = SoftHsmTestToken.create();
    this.dir = Files.createTempDirectory("p11kms-secure-it");
    // The shared SOFTHSM2_CONF names the newest test token; keep a copy naming this one.
    Files.copy(token.confPath(), dir.resolve("softhsm2.conf"));
    this.pki = TestPki.create(dir, "test");
    this.rogue = TestPki.create(dir, "rogue");
    TestPki.Issued serverCert = pki.server();
    this.auditFile = dir.resolve("audit").resolve("audit.log");
    this.security =
        SecurityConfig.builder(auditFile)
            .mutualTls(serverCert.cert(), serverCert.key(), pki.caFile())
            .admins(List.of(ADMIN))
            .auditCheckpointRecords(checkpointRecords)
            .auditCheckpointInterval(Duration.ofMinutes(10))
            .auditKeyLabel(AUDIT_KEY)
            .refusalAudit(REFUSAL_AUDIT)
            .build();
    this.checkpointRecords = checkpointRecords;
    this.interceptor = interceptor;
    this.callTimeout = callTimeout;
    startServer();
  }

  /** Opens the token, the audit log (anchored in the token, as KmsServer.open does) and serves. */
  private void startServer() throws Exception {
    HsmConfig hsmConfig =
        callTimeout == null ? token.hsmConfig() : token.hsmConfig().withCallTimeout(callTimeout);
    Pkcs11Hsm hsm = Pkcs11Hsm.open(hsmConfig, interceptor);
    this.hsm = hsm;
    hsm.createSigningKeyIfAbsent(AUDIT_KEY);
    AuditLog audit =
        AuditLog.open(
            auditFile,
            data -> hsm.sign(AUDIT_KEY, data),
            AuditAnchor.inToken(hsm, AUDIT_KEY),
            checkpointRecords,
            Duration.ofMinutes(10),
            Clock.systemUTC());
    this.store = KeyStores.open("jdbc:sqlite:" + dir.resolve("p11kms.db"));
    this.access =
        new AccessLayer(
            new AccessControl(
                true,
                security.admins(),
                PrincipalAccounts.allIn(KmsTestServer.ARNS.account()),
                hsm,
                store,
                KmsTestServer.ARNS,
                Clock.systemUTC(),
                audit,
                RefusalAuditLimit.of(Clock.systemUTC(), security.refusalAudit())));
    this.server =
        new KmsServer(
                // As KmsServer.open with metrics on: the request interceptor behind the access
                // layer.
                Tls.serverBuilder("127.0.0.1", 0, security)
                    .intercept(new io.p11kms.server.metrics.Metrics().interceptor()),
                hsm,
                store,
                KmsTestServer.ARNS,
                Clock.systemUTC(),
                Duration.ofSeconds(30),
                access)
            .start();
    // The AWS JSON API beside gRPC, over TLS, each request verified by its signature.
    this.awsApi =
        server.serveAwsApi(
            AwsApi.of(new AwsApiConfig(true, "127.0.0.1", 0, ClientCertificates.NONE), security, 8)
                .verifiedBy(accessKeys, KmsTestServer.ARNS.region()));
  }

  /** A server that writes a signed checkpoint every 5 records. */
  static KmsSecureTestServer start() throws Exception {
    return new KmsSecureTestServer(5);
  }

  /**
   * As {@link #start()}, with the token calls going through {@code interceptor} (to inject faults)
   * and a deadline of {@code callTimeout} each.
   */
  static KmsSecureTestServer start(TokenCallInterceptor interceptor, Duration callTimeout)
      throws Exception {
    return new KmsSecureTestServer(5, interceptor, callTimeout);
  }

  /** A client whose certificate names {@code principal}, signed by the server's client CA. */
  KeyManagementServiceBlockingStub client(String principal) throws Exception {
    TestPki.Issued cert = pki.client(fileName(principal), principal);
    return stub(GrpcSslContexts.forClient().keyManager(cert.cert().toFile(), cert.key().toFile()));
  }

  /** A client with no certificate at all. */
  KeyManagementServiceBlockingStub clientWithoutCertificate() throws Exception {
    return stub(GrpcSslContexts.forClient());
  }

  /** A client whose certificate (for {@code principal}) expired yesterday. */
  KeyManagementServiceBlockingStub clientWithExpiredCertificate(String principal) throws Exception {
    Instant now = Instant.now();
    TestPki.Issued cert =
        pki.client(
            "expired", principal, now.minus(Duration.ofDays(2)), now.minus(Duration.ofDays(1)));
    return stub(GrpcSslContexts.forClient().keyManager(cert.cert().toFile(), cert.key().toFile()));
  }

  /** A client whose certificate (for {@code principal}) another CA signed. */
  KeyManagementServiceBlockingStub clientSignedByAnotherCa(String principal) throws Exception {
    TestPki.Issued cert = rogue.client("rogue", principal);
    return stub(GrpcSslContexts.forClient().keyManager(cert.cert().toFile(), cert.key().toFile()));
  }

  private KeyManagementServiceBlockingStub stub(SslContextBuilder ssl) throws Exception {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port())
            .sslContext(ssl.trustManager(pki.caFile().toFile()).build())
            .build();
    synchronized (channels) {
      channels.add(channel);
    }
    return KeyManagementServiceGrpc.newBlockingStub(channel)
        .withInterceptors(PerCallDeadline.ofSeconds(30));
  }

  private static String fileName(String principal) {
    return principal.substring(principal.lastIndexOf('/') + 1);
  }

  /**
   * An AWS SDK client of the AWS JSON API over TLS, signing with a new access key of {@code
   * principal} (in the default account) whose secret is {@code secret}; {@code signWith} is the
   * secret the client actually signs with (another one: a wrong secret).
   */
  KmsClient awsClientFor(String principal, String secret, String signWith) throws Exception {
    return awsClient(addAccessKey(principal, secret), signWith, KmsTestServer.ARNS.region());
  }

  /** A new access key of {@code principal} (in the default account) with {@code secret}; its id. */
  String addAccessKey(String principal, String secret) {
    return addAccessKey(principal, KmsTestServer.ARNS.account(), secret);
  }

  /** A new access key of {@code principal} in {@code account} with {@code secret}; its id. */
  String addAccessKey(String principal, String account, String secret) {
    String id = "AKIA" + Long.toHexString(System.nanoTime()).toUpperCase(java.util.Locale.ROOT);
    accessKeys.add(id, secret, new Caller(principal, account));
    return id;
  }

  /** An AWS SDK client of the AWS JSON API over TLS signing as {@code id} with {@code secret}. */
  KmsClient awsClient(String id, String secret, String region) throws Exception {
    return awsClient(id, secret, region, UnaryOperator.identity());
  }

  /**
   * As {@link #awsClient(String, String, String)}, its HTTP client wrapped by {@code wrap} (which
   * sees each request as signed, on its way out).
   */
  KmsClient awsClient(String id, String secret, String region, UnaryOperator<SdkHttpClient> wrap)
      throws Exception {
    java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (var in = Files.newInputStream(pki.caFile())) {
      trust.setCertificateEntry(
          "ca", java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    javax.net.ssl.TrustManagerFactory tmf =
        javax.net.ssl.TrustManagerFactory.getInstance(
            javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    return KmsClient.builder()
        .endpointOverride(awsEndpoint())
        .region(Region.of(region))
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create(id, secret)))
        .httpClient(
            wrap.apply(
                Apache5HttpClient.builder()
                    .tlsTrustManagersProvider(tmf::getTrustManagers)
                    .build()))
        .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
        .build();
  }

  /** The AWS JSON API's address. */
  URI awsEndpoint() {
    return URI.create("https://localhost:" + awsApi.port());
  }

  /** A client certificate from the server's client CA whose subject is {@code CN=commonName}. */
  TestPki.Issued clientCertificate(String commonName) throws Exception {
    return pki.client(commonName, "spiffe://p11kms.test/" + commonName);
  }

  /** A client certificate of {@code CN=commonName} that another CA signed. */
  TestPki.Issued clientCertificateOfAnotherCa(String commonName) throws Exception {
    return rogue.client(commonName, "spiffe://p11kms.test/" + commonName);
  }

  /** A client's TLS context trusting the server, with {@code cert} (null: none) as its own. */
  javax.net.ssl.SSLContext clientContext(TestPki.Issued cert) throws Exception {
    return pki.clientContext(cert);
  }

  /** The test CA's certificate file, which the server's certificate chains to. */
  Path caFile() {
    return pki.caFile();
  }

  /** The SQLite database file. */
  Path database() {
    return dir.resolve("p11kms.db");
  }

  /** The audit log file. */
  Path auditFile() {
    return auditFile;
  }

  /** The request records of the audit log, in order. */
  List<JsonNode> auditRecords() throws Exception {
    ObjectMapper json = new ObjectMapper();
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(auditFile)) {
      JsonNode r = json.readTree(line);
      if (r.path("type").asText().equals("request")) {
        out.add(r);
      }
    }
    return out;
  }

  /**
   * {@code p11kms verify-audit --config ...} with {@code args}, in a child JVM (SoftHSM2 lists its
   * tokens at C_Initialize, so this JVM's module does not see a token made after it started); its
   * output, once it exited with 0.
   */
  String verifyAudit(String... args) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "io.p11kms.server.Main",
                "verify-audit",
                "--config",
                configFile().toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("SOFTHSM2_CONF", softHsmConf().toString());
    Process p = builder.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }

  /** The key store under the server. */
  KeyStore store() {
    return store;
  }

  /** The server's access control, for a front end of a test's own beside gRPC. */
  AccessControl accessControl() {
    return access.control();
  }

  /** The adapter under the server (verifies checkpoints with the token's audit key). */
  Pkcs11Hsm hsm() {
    return hsm;
  }

  /**
   * Objects a session of this process sees on the token, not counting the audit log's anchor: a
   * token data object the first anchored checkpoint makes and each later one replaces, so that a
   * test's count does not depend on whether a checkpoint fell between its two counts. {@link
   * #auditAnchorObjects()} counts the anchor's objects.
   */
  int objectsBesideAuditAnchor() {
    return hsm.visibleObjectCount() - auditAnchorObjects();
  }

  /** The audit anchor's objects on the token: none before the first checkpoint, then one. */
  int auditAnchorObjects() {
    return hsm.readPrivateData(AuditAnchor.label(AUDIT_KEY)).size();
  }

  SecurityConfig security() {
    return security;
  }

  SoftHsmTestToken token() {
    return token;
  }

  /**
   * Stops the server and closes its token session, keeping the token, the audit log and a
   * properties file for the admin commands ({@link #configFile()}).
   */
  void stopServer() throws Exception {
    if (stopped) {
      return;
    }
    stopped = true;
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    synchronized (channels) {
      channels.clear();
    }
    server.stop();
  }

  /**
   * Starts the server again on the same token, database and audit file (stopped first if it runs);
   * clients made before do not reach it.
   */
  void restartServer() throws Exception {
    stopServer();
    startServer();
    stopped = false;
  }

  /** A SoftHSM2 configuration naming this server's token, for a child process. */
  Path softHsmConf() {
    return dir.resolve("softhsm2.conf");
  }

  /** A server properties file naming this token, the audit log and its key. */
  Path configFile() throws Exception {
    Path file = dir.resolve("p11kms.properties");
    Files.writeString(
        file,
        "hsm.module="
            + token.modulePath()
            + "\nhsm.token.label="
            + token.label()
            + "\nhsm.pin.file="
            + token.userPinFile()
            + "\nstore.jdbc.url=jdbc:sqlite:"
            + database()
            + "\naudit.file="
            + auditFile
            + "\naudit.key.label="
            + AUDIT_KEY
            + "\narn.partition="
            + KmsTestServer.ARNS.partition()
            + "\narn.region="
            + KmsTestServer.ARNS.region()
            + "\narn.account="
            + KmsTestServer.ARNS.account()
            + "\n");
    return file;
  }

  @Override
  public void close() throws Exception {
    stopServer();
    token.close();
    TempDirs.deleteTree(dir);
  }
}
