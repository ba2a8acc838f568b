package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.p11kms.proto.v1.CreateAliasRequest;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.DescribeKeyRequest;
import io.p11kms.proto.v1.EnableKeyRotationRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.ListKeyRotationsRequest;
import io.p11kms.proto.v1.RotateKeyOnDemandRequest;
import io.p11kms.proto.v1.RotationType;
import io.p11kms.proto.v1.RotationsListEntry;
import io.p11kms.proto.v1.ScheduleKeyDeletionRequest;
import io.p11kms.server.client.KmsChannels;
import io.p11kms.server.crypto.CiphertextBlob;
import io.p11kms.server.testing.PostgresTestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two servers as a deployment runs them: two SoftHSM2 tokens in separate token directories (A's
 * made by init-token.sh, B's made empty and given A's domain key by the domain-join ceremony, each
 * step a child process with that token's SOFTHSM2_CONF), one real PostgreSQL, and two server
 * processes ({@code Main serve}) on it, both running their schedulers every second. The last test
 * kills A.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MultiServerIT {
  private static final long TASKS_INTERVAL_MS = 1000;

  @TempDir static Path temp;

  private static PostgresTestServer postgres;
  private static String database;
  private static Path dirA;
  private static Path dirB;
  private static List<String> domainKeysOnA;
  private static List<String> domainKeysOnB;
  private static ServerProcess serverA;
  private static ServerProcess serverB;
  private static ManagedChannel channelA;
  private static ManagedChannel channelB;

  @BeforeAll
  static void startDeployment() throws Exception {
    long t0 = System.nanoTime();
    CompletableFuture<PostgresTestServer> cluster =
        CompletableFuture.supplyAsync(PostgresTestServer::start);
    dirA = temp.resolve("a");
    dirB = temp.resolve("b");
    CompletableFuture<Void> tokenB = run(() -> ServerProcess.initToken(dirB, true));
    ServerProcess.initToken(dirA);
    tokenB.get(120, TimeUnit.SECONDS);
    CompletableFuture<List<String>> listedA = list(dirA);
    long t1 = System.nanoTime();
    DomainJoinSteps.join(temp, dirA, dirB);
    long t2 = System.nanoTime();
    CompletableFuture<List<String>> listedB = list(dirB);

    postgres = cluster.get(60, TimeUnit.SECONDS);
    database = postgres.createDatabase();
    String url = postgres.superuserUrl(database);
    configure(dirA, url);
    configure(dirB, url);
    // Both at once: the schema is made by whichever migrates first.
    CompletableFuture<ServerProcess> a = CompletableFuture.supplyAsync(() -> start(dirA));
    CompletableFuture<ServerProcess> b = CompletableFuture.supplyAsync(() -> start(dirB));
    serverA = a.get(90, TimeUnit.SECONDS);
    serverB = b.get(90, TimeUnit.SECONDS);
    domainKeysOnA = listedA.get(60, TimeUnit.SECONDS);
    domainKeysOnB = listedB.get(60, TimeUnit.SECONDS);
    System.out.printf(
        "multi-server set-up: tokens %d ms, domain join %d ms, PostgreSQL and servers %d ms%n",
        TimeUnit.NANOSECONDS.toMillis(t1 - t0),
        TimeUnit.NANOSECONDS.toMillis(t2 - t1),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t2));
    channelA = KmsChannels.forEndpoints(List.of(endpoint(serverA))).usePlaintext().build();
    channelB = KmsChannels.forEndpoints(List.of(endpoint(serverB))).usePlaintext().build();
  }

  @AfterAll
  static void stopDeployment() throws Exception {
    for (ManagedChannel c : new ManagedChannel[] {channelA, channelB}) {
      if (c != null) {
        c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
    for (ServerProcess s : new ServerProcess[] {serverA, serverB}) {
      if (s != null) {
        s.close();
      }
    }
    if (postgres != null) {
      postgres.close();
    }
  }

  private interface Step {
    void run() throws Exception;
  }

  private static CompletableFuture<Void> run(Step step) {
    return CompletableFuture.runAsync(
        () -> {
          try {
            step.run();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
  }

  private static CompletableFuture<List<String>> list(Path dataDir) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return DomainJoinSteps.list(temp, dataDir);
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
  }

  /** Both servers on the one database, looking for due work every second. */
  private static void configure(Path dataDir, String jdbcUrl) throws Exception {
    Path file = dataDir.resolve("p11kms.properties");
    String properties =
        Files.readString(file)
            .replaceAll(
                "(?m)^store\\.jdbc\\.url=.*$",
                Matcher.quoteReplacement("store.jdbc.url=" + jdbcUrl));
    Files.writeString(file, properties + "tasks.interval.ms=" + TASKS_INTERVAL_MS + "\n");
  }

  private static ServerProcess start(Path dataDir) {
    try {
      return ServerProcess.start(dataDir);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String endpoint(ServerProcess server) {
    return "127.0.0.1:" + server.port();
  }

  private static KeyManagementServiceBlockingStub kms(ManagedChannel channel) {
    return KeyManagementServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  private static String createKey(KeyManagementServiceBlockingStub kms) {
    return kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
  }

  private static ByteString encrypt(
      KeyManagementServiceBlockingStub kms, String keyId, ByteString plaintext) {
    return kms.encrypt(EncryptRequest.newBuilder().setKeyId(keyId).setPlaintext(plaintext).build())
        .getCiphertextBlob();
  }

  private static ByteString decrypt(KeyManagementServiceBlockingStub kms, ByteString blob) {
    return kms.decrypt(DecryptRequest.newBuilder().setCiphertextBlob(blob).build()).getPlaintext();
  }

  private static UUID versionOf(ByteString blob) throws Exception {
    return CiphertextBlob.parse(blob.toByteArray()).keyVersionId();
  }

  @Test
  @Order(1)
  void domainKeyOnB_hasTheAttributesOfA() {
    assertThat(domainKeysOnA).isNotEmpty();
    assertThat(domainKeysOnA.get(0)).startsWith("domain-key/1 ").contains("CKA_TRUSTED=true");
    assertThat(domainKeysOnB).isEqualTo(domainKeysOnA);
  }

  @Test
  @Order(2)
  void ciphertextsAliasesAndRotations_crossServers() throws Exception {
    KeyManagementServiceBlockingStub onA = kms(channelA);
    KeyManagementServiceBlockingStub onB = kms(channelB);
    String keyId = createKey(onA);
    ByteString fromA = ByteString.copyFromUtf8("made on A");
    ByteString fromB = ByteString.copyFromUtf8("made on B");

    ByteString blobA = encrypt(onA, keyId, fromA);
    ByteString blobB = encrypt(onB, keyId, fromB);
    assertThat(decrypt(onB, blobA)).isEqualTo(fromA);
    assertThat(decrypt(onA, blobB)).isEqualTo(fromB);

    onA.createAlias(
        CreateAliasRequest.newBuilder()
            .setAliasName("alias/made-on-a")
            .setTargetKeyId(keyId)
            .build());
    assertThat(
            onB.describeKey(DescribeKeyRequest.newBuilder().setKeyId("alias/made-on-a").build())
                .getKeyMetadata()
                .getKeyId())
        .isEqualTo(keyId);

    onA.rotateKeyOnDemand(RotateKeyOnDemandRequest.newBuilder().setKeyId(keyId).build());
    List<RotationsListEntry> rotations =
        onB.listKeyRotations(ListKeyRotationsRequest.newBuilder().setKeyId(keyId).build())
            .getRotationsList();
    assertThat(rotations).hasSize(1);
    UUID newVersion = UUID.fromString(rotations.get(0).getKeyMaterialId());
    ByteString afterRotation = ByteString.copyFromUtf8("after the rotation on A");
    ByteString newBlobB = encrypt(onB, "alias/made-on-a", afterRotation);
    ByteString newBlobA = encrypt(onA, keyId, afterRotation);
    assertThat(versionOf(newBlobB)).isEqualTo(newVersion);
    assertThat(versionOf(newBlobA)).isEqualTo(newVersion);
    assertThat(versionOf(blobA)).isNotEqualTo(newVersion);
    assertThat(decrypt(onB, newBlobA)).isEqualTo(afterRotation);
    assertThat(decrypt(onA, newBlobB)).isEqualTo(afterRotation);
    assertThat(decrypt(onB, blobB)).as("the old version still decrypts").isEqualTo(fromB);
  }

  @Test
  @Order(3)
  void concurrentCreateAliasOfOneName_onBothServers_exactlyOneSucceeds() throws Exception {
    List<String> targets = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      targets.add(createKey(kms(i % 2 == 0 ? channelA : channelB)));
    }
    int calls = 100;
    ExecutorService pool = Executors.newFixedThreadPool(calls);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<String>> outcomes = new ArrayList<>();
    for (int i = 0; i < calls; i++) {
      // Half the calls to each server, each call naming one of four keys.
      KeyManagementServiceBlockingStub kms = kms(i % 2 == 0 ? channelA : channelB);
      String target = targets.get(i % targets.size());
      outcomes.add(
          pool.submit(
              () -> {
                go.await();
                try {
                  kms.createAlias(
                      CreateAliasRequest.newBuilder()
                          .setAliasName("alias/raced")
                          .setTargetKeyId(target)
                          .build());
                  return "created:" + target;
                } catch (StatusRuntimeException e) {
                  return Rpc.failure(
                          () -> {
                            throw e;
                          })
                      .reason();
                }
              }));
    }
    go.countDown();
    List<String> results = new ArrayList<>();
    for (Future<String> f : outcomes) {
      results.add(f.get(60, TimeUnit.SECONDS));
    }
    pool.shutdown();

    List<String> created = results.stream().filter(r -> r.startsWith("created:")).toList();
    assertThat(created).hasSize(1);
    assertThat(results.stream().filter("AlreadyExistsException"::equals).count()).isEqualTo(99);
    String winner = created.get(0).substring("created:".length());
    for (ManagedChannel channel : List.of(channelA, channelB)) {
      assertThat(
              kms(channel)
                  .describeKey(DescribeKeyRequest.newBuilder().setKeyId("alias/raced").build())
                  .getKeyMetadata()
                  .getKeyId())
          .isEqualTo(winner);
    }
  }

  @Test
  @Order(4)
  void dueRotationAndDueDeletion_eachPerformedOnce() throws Exception {
    KeyManagementServiceBlockingStub onA = kms(channelA);
    KeyManagementServiceBlockingStub onB = kms(channelB);
    String rotating = createKey(onA);
    onA.enableKeyRotation(EnableKeyRotationRequest.newBuilder().setKeyId(rotating).build());
    String deleting = createKey(onB);
    onB.scheduleKeyDeletion(
        ScheduleKeyDeletionRequest.newBuilder()
            .setKeyId(deleting)
            .setPendingWindowInDays(7)
            .build());
    // Time passes: the rotation and the end of the deletion window fall due now.
    long now = ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
    assertThat(sql("UPDATE keys SET next_rotation_date = ? WHERE key_id = ?", now, rotating))
        .isEqualTo(1);
    assertThat(sql("UPDATE keys SET deletion_date = ? WHERE key_id = ?", now, deleting))
        .isEqualTo(1);

    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while ((count("key_rotations", rotating) == 0 || count("deleted_keys", deleting) == 0)
        && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    // Both schedulers run at least three more times: nothing more may happen.
    Thread.sleep(3 * TASKS_INTERVAL_MS + 500);

    List<RotationsListEntry> rotations =
        onB.listKeyRotations(ListKeyRotationsRequest.newBuilder().setKeyId(rotating).build())
            .getRotationsList();
    assertThat(rotations).hasSize(1);
    assertThat(rotations.get(0).getRotationType()).isEqualTo(RotationType.AUTOMATIC);
    assertThat(count("key_versions", rotating)).isEqualTo(2);
    assertThat(count("deleted_keys", deleting)).isEqualTo(1);
    assertThat(count("keys", deleting)).isZero();
    for (ManagedChannel channel : List.of(channelA, channelB)) {
      Rpc.assertFails(
          () ->
              kms(channel).describeKey(DescribeKeyRequest.newBuilder().setKeyId(deleting).build()),
          Status.Code.NOT_FOUND,
          "NotFoundException");
    }
    // Each server logs the work it did: one line for each, in one log or the other.
    String logs = Files.readString(dirA.resolve("server.log"));
    logs += Files.readString(dirB.resolve("server.log"));
    // The servers run in development mode, which warns once at start by design.
    logs =
        logs.replaceAll("(?m)^.* WARN io\\.p11kms\\.server\\.KmsServer - DEVELOPMENT MODE .*$", "");
    assertThat(logs)
        .doesNotContain(" ERROR ", " WARN ", "\tat ")
        .containsOnlyOnce("key " + rotating + " rotated automatically")
        .containsOnlyOnce("key " + deleting + " deleted");
  }

  @Test
  @Order(5)
  void killA_underLoadFromClientsThatKnowBoth_losesNoRequestAndGivesNoWrongResult()
      throws Exception {
    String keyId = createKey(kms(channelB));
    int clients = 4;
    CallAttempts attempts = new CallAttempts();
    List<ManagedChannel> channels = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      channels.add(
          KmsChannels.forEndpoints(List.of(endpoint(serverA), endpoint(serverB)))
              .usePlaintext()
              .intercept(attempts)
              .build());
    }
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong roundTrips = new AtomicLong();
    AtomicLong lost = new AtomicLong();
    AtomicReference<Status> firstLost = new AtomicReference<>();
    AtomicLong wrong = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    List<Future<?>> running = new ArrayList<>();
    for (ManagedChannel channel : channels) {
      running.add(
          pool.submit(
              () -> {
                KeyManagementServiceBlockingStub kms =
                    KeyManagementServiceGrpc.newBlockingStub(channel);
                while (!stop.get()) {
                  byte[] bytes = new byte[64];
                  ThreadLocalRandom.current().nextBytes(bytes);
                  ByteString plaintext = ByteString.copyFrom(bytes);
                  try {
                    ByteString blob =
                        encrypt(kms.withDeadlineAfter(10, TimeUnit.SECONDS), keyId, plaintext);
                    ByteString back = decrypt(kms.withDeadlineAfter(10, TimeUnit.SECONDS), blob);
                    if (!back.equals(plaintext)) {
                      wrong.incrementAndGet();
                    }
                    roundTrips.incrementAndGet();
                  } catch (StatusRuntimeException e) {
                    lost.incrementAndGet();
                    firstLost.compareAndSet(null, e.getStatus());
                  }
                }
              }));
    }
    int portA = serverA.port();
    int portB = serverB.port();
    // The kill comes once both servers have served calls (on a loaded machine the clients' first
    // calls can take seconds), then the load runs on until calls have completed after it.
    awaitUntil(() -> attempts.ok(portA) >= 10 && attempts.ok(portB) >= 10);
    long okOnABeforeKill = attempts.ok(portA);
    long okOnBBeforeKill = attempts.ok(portB);
    long roundTripsBeforeKill = roundTrips.get();
    serverA.kill();
    awaitUntil(() -> roundTrips.get() - roundTripsBeforeKill >= 20);
    stop.set(true);
    for (Future<?> f : running) {
      f.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    System.out.printf(
        "kill under load: %d round trips (%d before the kill), %d lost, %d wrong; attempts ok"
            + " on A %d (%d before the kill), on B %d (%d before), failed on A %d, on B %d;"
            + " %d retries (most for one call %d), %d transparent%n",
        roundTrips.get(),
        roundTripsBeforeKill,
        lost.get(),
        wrong.get(),
        attempts.ok(portA),
        okOnABeforeKill,
        attempts.ok(portB),
        okOnBBeforeKill,
        attempts.failed(portA),
        attempts.failed(portB),
        attempts.retries(),
        attempts.mostRetriesOfOneCall(),
        attempts.transparentRetries());
    assertThat(okOnABeforeKill).as("A served calls before the kill").isPositive();
    assertThat(okOnBBeforeKill).as("B served calls before the kill").isPositive();
    assertThat(roundTrips.get() - roundTripsBeforeKill)
        .as("round trips after the kill")
        .isPositive();
    assertThat(lost.get()).as("calls lost; the first: %s", firstLost.get()).isZero();
    assertThat(wrong.get()).isZero();
    assertThat(attempts.mostRetriesOfOneCall()).as("retries of one call").isLessThanOrEqualTo(1);
  }

  /** One update statement on the servers' database; how many rows it changed. */
  private static int sql(String update, long micros, String keyId) throws Exception {
    try (Connection c = postgres.connect(database);
        PreparedStatement s = c.prepareStatement(update)) {
      s.setLong(1, micros);
      s.setString(2, keyId);
      return s.executeUpdate();
    }
  }

  private static long count(String table, String keyId) throws Exception {
    try (Connection c = postgres.connect(database);
        PreparedStatement s =
            c.prepareStatement("SELECT COUNT(*) FROM " + table + " WHERE key_id = ?")) {
      s.setString(1, keyId);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return r.getLong(1);
      }
    }
  }

  /** Waits until {@code condition} holds, at most a minute. */
  private static void awaitUntil(java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("waited a minute for the load").isLessThan(deadline);
      Thread.sleep(50);
    }
  }
}
