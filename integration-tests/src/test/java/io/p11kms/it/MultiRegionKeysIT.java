package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.util.MutableHandlerRegistry;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.TokenCallInterceptor;
import io.p11kms.hsm.domain.RegionPeering;
import io.p11kms.hsm.domain.TransportKey;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import io.p11kms.hsm.testing.TempDirs;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.config.RegionConfig;
import io.p11kms.server.config.SecurityConfig;
import io.p11kms.server.grpc.PrincipalInterceptor;
import io.p11kms.server.region.GrpcRegionPeers;
import io.p11kms.server.region.RegionPeerGrpcService;
import io.p11kms.server.service.CreateKeyRequest;
import io.p11kms.server.service.CryptoService;
import io.p11kms.server.service.DeletionTask;
import io.p11kms.server.service.KeyLifecycleService;
import io.p11kms.server.service.KeyMetadata;
import io.p11kms.server.service.KeyRotationService;
import io.p11kms.server.service.KeyService;
import io.p11kms.server.service.KeySpec;
import io.p11kms.server.service.KeyState;
import io.p11kms.server.service.KeyUsage;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.service.MultiRegionConfiguration;
import io.p11kms.server.service.MultiRegionService;
import io.p11kms.server.service.RegionPeers;
import io.p11kms.server.service.Tag;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyStores;
import io.p11kms.server.store.KeyVersionRecord;
import io.p11kms.server.tls.Tls;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two regions in one test: two tokens with different domain keys, two stores, and region B's peer
 * service on a real port behind mutual TLS; region A reaches it with its own region certificate,
 * and B serves only A's principal. A multi-Region key made in A is replicated to B with its every
 * version wrapped in A's token under B's transport key (which A's SO trusted after checking its
 * fingerprint) and unwrapped only in B's token: what A encrypts B decrypts and the other way. A
 * replication that fails on B's side half-way leaves nothing on B, and a retry completes it.
 */
class MultiRegionKeysIT {
  private static final String REGION_A = "region-a";
  private static final String REGION_B = "region-b";
  private static final String PRINCIPAL_A = PeeredRegions.principal(REGION_A);
  private static final String ACCOUNT = PeeredRegions.ACCOUNT;
  private static final Map<String, String> CONTEXT = Map.of("purpose", "multi-region");

  private static final String PRINCIPAL_B = PeeredRegions.principal(REGION_B);

  private static Path dir;
  private static SoftHsmTestToken tokenA;
  private static SoftHsmTestToken tokenB;
  private static Region a;
  private static Region b;
  private static Server peerServerA;
  private static Server peerServerB;
  private static GrpcRegionPeers peersA;
  private static GrpcRegionPeers peersB;
  private static final AtomicInteger failUnwrapsOnB = new AtomicInteger(-1);
  private static final AtomicReference<Fault> updatePrimaryFaultOnB =
      new AtomicReference<>(Fault.NONE);
  private static final AtomicReference<Fault> replicaDeletedFaultOnA =
      new AtomicReference<>(Fault.NONE);

  private static final AtomicReference<Pause> receiveReplicaPauseOnB = new AtomicReference<>();

  /** Holds a call when it reaches a region's peer service, until the test lets it go. */
  private static final class Pause {
    final CountDownLatch arrived = new CountDownLatch(1);
    final CountDownLatch released = new CountDownLatch(1);

    void awaitArrival() throws InterruptedException {
      assertThat(arrived.await(60, TimeUnit.SECONDS)).as("the call arrived").isTrue();
    }
  }

  /** What happens to a call that reaches a region's peer service. */
  private enum Fault {
    NONE,
    /** B is not reached: the call fails before B does anything. */
    UNREACHABLE,
    /** B carries the call out, but its answer is lost on the way back. */
    ANSWER_LOST
  }

  /** One region's token, store and services. */
  private record Region(
      Pkcs11Hsm hsm,
      KeyStore store,
      KeyService keys,
      KeyLifecycleService lifecycle,
      CryptoService crypto,
      KeyRotationService rotations,
      MultiRegionService multiRegion) {

    static Region open(
        SoftHsmTestToken token,
        TokenCallInterceptor interceptor,
        Path database,
        String region,
        RegionPeers peers) {
      Pkcs11Hsm hsm = Pkcs11Hsm.open(token.hsmConfig(), interceptor);
      KeyStore store = KeyStores.open("jdbc:sqlite:" + database);
      KeyArns arns = new KeyArns("aws", region, ACCOUNT);
      Clock clock = Clock.systemUTC();
      KeyService keys = new KeyService(hsm, store, arns, clock);
      MultiRegionService multiRegion = new MultiRegionService(hsm, store, keys, arns, peers, clock);
      return new Region(
          hsm,
          store,
          keys,
          new KeyLifecycleService(store, keys, clock),
          new CryptoService(hsm, store, keys),
          new KeyRotationService(hsm, store, keys, clock, multiRegion),
          multiRegion);
    }

    void close() {
      store.close();
      hsm.close();
    }
  }

  @BeforeAll
  static void regions() throws Exception {
    dir = Files.createTempDirectory("p11kms-regions-it");
    List<SoftHsmTestToken> tokens = PeeredRegions.tokens(2);
    tokenA = tokens.get(0);
    tokenB = tokens.get(1);
    // The peering ceremony, both ways, before the regions log in (the SO cannot while the user
    // is): each region's transport key, its fingerprint confirmed, trusted by the other's SO.
    TransportKey transportA = transportKey(tokenA);
    TransportKey transportB = transportKey(tokenB);
    trust(tokenA, REGION_B, transportB);
    trust(tokenB, REGION_A, transportA);

    TestPki pki = TestPki.create(dir, "regions");
    TestPki.Issued serverCert = pki.server();
    TestPki.Issued clientA = pki.client("region-a", PRINCIPAL_A);
    TestPki.Issued clientB = pki.client("region-b", PRINCIPAL_B);

    // Each region's peer service serves only the other's principal. A's is started first, its
    // service added once region A is open (A needs B's address, B needs A's).
    MutableHandlerRegistry servicesA = new MutableHandlerRegistry();
    peerServerA =
        Tls.serverBuilder("127.0.0.1", 0, security(serverCert, pki, "a"))
            .fallbackHandlerRegistry(servicesA)
            .build()
            .start();
    peersB = peers(REGION_A, peerServerA.getPort(), PRINCIPAL_A, clientB, pki);
    TokenCallInterceptor faults =
        function ->
            function.equals("C_UnwrapKey") && failUnwrapsOnB.getAndDecrement() == 0
                ? org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_GENERAL_ERROR
                : 0L;
    b = Region.open(tokenB, faults, dir.resolve("b.db"), REGION_B, peersB);
    peerServerB =
        Tls.serverBuilder("127.0.0.1", 0, security(serverCert, pki, "b"))
            .addService(
                ServerInterceptors.intercept(
                    new RegionPeerGrpcService(peerOnly(REGION_A, PRINCIPAL_A), b.multiRegion()),
                    new PrincipalInterceptor(true),
                    faultsOn("UpdatePrimary", updatePrimaryFaultOnB),
                    pausing("ReceiveReplica", receiveReplicaPauseOnB)))
            .build()
            .start();
    peersA = peers(REGION_B, peerServerB.getPort(), PRINCIPAL_B, clientA, pki);
    a = Region.open(tokenA, TokenCallInterceptor.NONE, dir.resolve("a.db"), REGION_A, peersA);
    servicesA.addService(
        ServerInterceptors.intercept(
            new RegionPeerGrpcService(peerOnly(REGION_B, PRINCIPAL_B), a.multiRegion()),
            new PrincipalInterceptor(true),
            faultsOn("ReplicaDeleted", replicaDeletedFaultOnA)));
  }

  private static TransportKey transportKey(SoftHsmTestToken token) {
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(token.hsmConfig())) {
      return hsm.regionTransportKey();
    }
  }

  private static SecurityConfig security(TestPki.Issued serverCert, TestPki pki, String name) {
    return SecurityConfig.builder(dir.resolve("audit-" + name + ".log"))
        .mutualTls(serverCert.cert(), serverCert.key(), pki.caFile())
        .auditCheckpointRecords(100)
        .auditCheckpointInterval(Duration.ofMinutes(10))
        .build();
  }

  /** A peer service's view: only {@code region} may call, with {@code principal}. */
  private static RegionConfig peerOnly(String region, String principal) {
    return new RegionConfig(
        Map.of(region, new RegionConfig.Peer(region, "unused:1", "localhost", principal)),
        "127.0.0.1",
        0,
        null,
        null,
        null);
  }

  /** The channel to {@code region}'s peer service, as {@code client}; its server is "localhost". */
  private static GrpcRegionPeers peers(
      String region, int port, String principal, TestPki.Issued client, TestPki pki) {
    return new GrpcRegionPeers(
        new RegionConfig(
            Map.of(
                region, new RegionConfig.Peer(region, "127.0.0.1:" + port, "localhost", principal)),
            "127.0.0.1",
            0,
            client.cert(),
            client.key(),
            pki.caFile()));
  }

  private static void trust(SoftHsmTestToken token, String region, TransportKey key) {
    char[] soPin = token.soPin();
    try {
      RegionPeering.trust(token.modulePath(), token.label(), soPin, region, key, key.fingerprint());
    } finally {
      Arrays.fill(soPin, '\0');
    }
  }

  /** Makes the calls of {@code method} fail as {@code fault} says. */
  private static ServerInterceptor faultsOn(String method, AtomicReference<Fault> fault) {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        Fault now =
            call.getMethodDescriptor().getBareMethodName().equals(method)
                ? fault.get()
                : Fault.NONE;
        if (now == Fault.UNREACHABLE) {
          call.close(Status.UNAVAILABLE, new Metadata());
          return new ServerCall.Listener<>() {};
        }
        if (now == Fault.ANSWER_LOST) {
          return next.startCall(
              new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                @Override
                public void sendMessage(R message) {}

                @Override
                public void close(Status status, Metadata trailers) {
                  super.close(Status.UNAVAILABLE, trailers);
                }
              },
              headers);
        }
        return next.startCall(call, headers);
      }
    };
  }

  /** Holds the calls of {@code method}, while a pause is set, until it is released. */
  private static ServerInterceptor pausing(String method, AtomicReference<Pause> pause) {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        Pause now =
            call.getMethodDescriptor().getBareMethodName().equals(method) ? pause.get() : null;
        if (now != null) {
          now.arrived.countDown();
          try {
            now.released.await(60, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        return next.startCall(call, headers);
      }
    };
  }

  @AfterAll
  static void close() throws Exception {
    for (GrpcRegionPeers peers : new GrpcRegionPeers[] {peersA, peersB}) {
      if (peers != null) {
        peers.close();
      }
    }
    for (Server server : new Server[] {peerServerA, peerServerB}) {
      if (server != null) {
        server.shutdownNow();
      }
    }
    if (a != null) {
      a.close();
    }
    if (b != null) {
      b.close();
    }
    if (tokenB != null) {
      tokenB.close();
    }
    if (tokenA != null) {
      tokenA.close();
    }
    TempDirs.deleteTree(dir);
  }

  private static KeyMetadata newPrimary() {
    return a.keys()
        .createKey(
            ACCOUNT, new CreateKeyRequest("multi-Region", null, null, List.of(), null, true));
  }

  private static String id(KeyMetadata key) {
    return KeyArns.keyIdText(key.keyId());
  }

  @Test
  void aCiphertextMadeInOneRegion_decryptsInTheOther() {
    a.hsm().evictCachedBackingKeys();
    b.hsm().evictCachedBackingKeys();
    int objectsA = a.hsm().visibleObjectCount();
    int objectsB = b.hsm().visibleObjectCount();
    KeyMetadata primary = newPrimary();
    assertThat(id(primary)).matches("mrk-[0-9a-f]{32}");
    assertThat(primary.arn()).isEqualTo("arn:aws:kms:region-a:" + ACCOUNT + ":key/" + id(primary));
    assertThat(primary.multiRegionConfiguration().orElseThrow().keyType()).isEqualTo("PRIMARY");
    byte[] plaintext = "made in region A".getBytes(StandardCharsets.UTF_8);
    byte[] blob = a.crypto().encrypt(id(primary), plaintext, CONTEXT).blob();

    KeyMetadata replica =
        a.multiRegion().replicateKey(id(primary), REGION_B, null, null, "the replica");

    assertThat(replica.arn()).isEqualTo("arn:aws:kms:region-b:" + ACCOUNT + ":key/" + id(primary));
    KeyMetadata inB = b.keys().describeKey(id(primary));
    assertThat(inB.arn()).isEqualTo(replica.arn());
    assertThat(inB.description()).isEqualTo("the replica");
    var configuration = inB.multiRegionConfiguration().orElseThrow();
    assertThat(configuration.keyType()).isEqualTo("REPLICA");
    assertThat(configuration.primaryKey().region()).isEqualTo(REGION_A);
    assertThat(configuration.primaryKey().arn()).isEqualTo(primary.arn());
    assertThat(configuration.replicaKeys()).extracting(r -> r.region()).containsExactly(REGION_B);
    assertThat(
            a.keys()
                .describeKey(id(primary))
                .multiRegionConfiguration()
                .orElseThrow()
                .replicaKeys())
        .extracting(r -> r.arn())
        .containsExactly(replica.arn());

    assertThat(b.crypto().decrypt(blob, CONTEXT, null).bytes()).isEqualTo(plaintext);
    byte[] fromB = b.crypto().encrypt(id(primary), plaintext, CONTEXT).blob();
    assertThat(a.crypto().decrypt(fromB, CONTEXT, null).bytes()).isEqualTo(plaintext);

    // The same version ids, other EKTs: each under its own region's domain key.
    KeyVersionRecord versionA = a.store().multiRegionKeys().versions(primary.keyId()).get(0);
    KeyVersionRecord versionB = b.store().multiRegionKeys().versions(primary.keyId()).get(0);
    assertThat(versionB.versionId()).isEqualTo(versionA.versionId());
    assertThat(versionB.ekt()).isNotEqualTo(versionA.ekt());

    // Nothing left on either token but what was there (B's transport key was made before).
    a.hsm().evictCachedBackingKeys();
    b.hsm().evictCachedBackingKeys();
    assertThat(a.hsm().visibleObjectCount()).isEqualTo(objectsA);
    assertThat(b.hsm().visibleObjectCount()).isEqualTo(objectsB);
  }

  @Test
  void aReplicationThatFailsHalfWayInB_leavesNothingThere_andARetryCompletesIt() {
    KeyMetadata primary = newPrimary();
    byte[] plaintext = "two versions".getBytes(StandardCharsets.UTF_8);
    byte[] first = a.crypto().encrypt(id(primary), plaintext, CONTEXT).blob();
    a.rotations().rotateKeyOnDemand(id(primary));
    byte[] second = a.crypto().encrypt(id(primary), plaintext, CONTEXT).blob();
    b.hsm().evictCachedBackingKeys();
    int objectsB = b.hsm().visibleObjectCount();

    failUnwrapsOnB.set(1); // B's token fails the second version's unwrap
    assertThatThrownBy(() -> a.multiRegion().replicateKey(id(primary), REGION_B, null, null, null))
        .isInstanceOfSatisfying(
            KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.DEPENDENCY_TIMEOUT));
    failUnwrapsOnB.set(-1);
    assertThat(b.store().findKey(primary.keyId())).isEmpty();
    assertThat(b.store().multiRegionKeys().versions(primary.keyId())).isEmpty();
    assertThat(
            a.keys()
                .describeKey(id(primary))
                .multiRegionConfiguration()
                .orElseThrow()
                .replicaKeys())
        .isEmpty();
    b.hsm().evictCachedBackingKeys();
    assertThat(b.hsm().visibleObjectCount()).isEqualTo(objectsB);

    a.multiRegion().replicateKey(id(primary), REGION_B, null, null, null);
    assertThat(b.crypto().decrypt(first, CONTEXT, null).bytes()).isEqualTo(plaintext);
    assertThat(b.crypto().decrypt(second, CONTEXT, null).bytes()).isEqualTo(plaintext);
    // Once more: the replica is there (AlreadyExistsException, as AWS), nothing twice.
    assertThatThrownBy(() -> a.multiRegion().replicateKey(id(primary), REGION_B, null, null, null))
        .isInstanceOfSatisfying(
            KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.ALREADY_EXISTS));
    assertThat(b.store().multiRegionKeys().versions(primary.keyId())).hasSize(2);
  }

  @Test
  void aRotationInThePrimary_reachesTheReplicaBeforeItsNewVersionEncrypts() {
    KeyMetadata primary = newPrimary();
    a.multiRegion().replicateKey(id(primary), REGION_B, null, null, null);
    byte[] plaintext = "after the rotation".getBytes(StandardCharsets.UTF_8);

    a.rotations().rotateKeyOnDemand(id(primary));
    KeyVersionRecord newest = a.store().findLatestVersion(primary.keyId()).orElseThrow();
    assertThat(newest.versionNumber()).isEqualTo(2);
    assertThat(b.store().findVersion(primary.keyId(), newest.versionId())).isPresent();
    byte[] blob = a.crypto().encrypt(id(primary), plaintext, CONTEXT).blob();
    assertThat(b.crypto().decrypt(blob, CONTEXT, null).bytes()).isEqualTo(plaintext);
    byte[] fromB = b.crypto().encrypt(id(primary), plaintext, CONTEXT).blob();
    assertThat(a.crypto().decrypt(fromB, CONTEXT, null).bytes()).isEqualTo(plaintext);

    // A replica rotates only with its primary.
    assertThatThrownBy(() -> b.rotations().rotateKeyOnDemand(id(primary)))
        .isInstanceOfSatisfying(
            KmsException.class,
            e -> assertThat(e.error()).isEqualTo(KmsError.UNSUPPORTED_OPERATION));
    assertThatThrownBy(() -> b.rotations().enableKeyRotation(id(primary), null))
        .isInstanceOfSatisfying(
            KmsException.class,
            e -> assertThat(e.error()).isEqualTo(KmsError.UNSUPPORTED_OPERATION));
  }

  @Test
  void aRotationThatCannotReachAReplica_storesNothing() {
    KeyMetadata primary = newPrimary();
    a.multiRegion().replicateKey(id(primary), REGION_B, null, null, null);
    failUnwrapsOnB.set(0);
    try {
      assertThatThrownBy(() -> a.rotations().rotateKeyOnDemand(id(primary)))
          .isInstanceOf(KmsException.class);
    } finally {
      failUnwrapsOnB.set(-1);
    }
    assertThat(a.store().multiRegionKeys().versions(primary.keyId())).hasSize(1);
    assertThat(b.store().multiRegionKeys().versions(primary.keyId())).hasSize(1);
  }

  @Test
  void onlyAMultiRegionPrimary_replicates_andOnlyToAPeer() {
    KeyMetadata single = a.keys().createKey(ACCOUNT, CreateKeyRequest.of("single"));
    assertThatThrownBy(
            () ->
                a.multiRegion().replicateKey(single.keyId().toString(), REGION_B, null, null, null))
        .isInstanceOfSatisfying(
            KmsException.class,
            e -> assertThat(e.error()).isEqualTo(KmsError.UNSUPPORTED_OPERATION));
    KeyMetadata primary = newPrimary();
    assertThatThrownBy(
            () -> a.multiRegion().replicateKey(id(primary), "region-c", null, null, null))
        .isInstanceOfSatisfying(
            KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.VALIDATION));
    assertThatThrownBy(() -> a.multiRegion().replicateKey(id(primary), REGION_A, null, null, null))
        .isInstanceOfSatisfying(
            KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.VALIDATION));
    a.multiRegion().replicateKey(id(primary), REGION_B, null, null, null);
    assertThatThrownBy(() -> b.multiRegion().replicateKey(id(primary), REGION_A, null, null, null))
        .isInstanceOfSatisfying(
            KmsException.class,
            e -> assertThat(e.error()).isEqualTo(KmsError.UNSUPPORTED_OPERATION));
    assertThat(UUID.fromString(single.keyId().toString())).isEqualTo(single.keyId());
  }

  private static MultiRegionConfiguration regions(Region region, KeyMetadata key) {
    return region.keys().describeKey(id(key)).multiRegionConfiguration().orElseThrow();
  }

  private static KeyState state(Region region, KeyMetadata key) {
    return region.keys().describeKey(id(key)).keyState();
  }

  private static void assertFails(KmsError error, Runnable call) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(error));
  }

  /** Both regions' DescribeKey agree that the primary is in {@code primary}. */
  private static void assertPrimaryIn(KeyMetadata key, String primary, String replica) {
    for (Region region : List.of(a, b)) {
      MultiRegionConfiguration c = regions(region, key);
      assertThat(c.primaryKey().region()).isEqualTo(primary);
      assertThat(c.primaryKey().arn()).contains(":" + primary + ":");
      assertThat(c.replicaKeys()).extracting(r -> r.region()).containsExactly(replica);
      assertThat(state(region, key)).isEqualTo(KeyState.ENABLED);
    }
    assertThat(regions(primary.equals(REGION_A) ? a : b, key).keyType()).isEqualTo("PRIMARY");
    assertThat(regions(primary.equals(REGION_A) ? b : a, key).keyType()).isEqualTo("REPLICA");
  }

  @Test
  void updatePrimaryRegion_swapsTheRolesInBothRegions_andRotationThenRunsFromTheNewPrimary() {
    KeyMetadata key = newPrimary();
    a.rotations().enableKeyRotation(id(key), 180);
    a.multiRegion().replicateKey(id(key), REGION_B, null, null, null);

    a.multiRegion().updatePrimaryRegion(id(key), REGION_B);

    assertPrimaryIn(key, REGION_B, REGION_A);
    // The automatic rotation moved with the role.
    var inB = b.rotations().getKeyRotationStatus(id(key));
    assertThat(inB.enabled()).isTrue();
    assertThat(inB.periodDays()).contains(180);
    assertThat(a.rotations().getKeyRotationStatus(id(key)).enabled()).isFalse();
    // Rotation and replication run from B now; A rotates with it.
    assertFails(KmsError.UNSUPPORTED_OPERATION, () -> a.rotations().rotateKeyOnDemand(id(key)));
    assertFails(
        KmsError.UNSUPPORTED_OPERATION,
        () -> a.multiRegion().replicateKey(id(key), REGION_B, null, null, null));
    b.rotations().rotateKeyOnDemand(id(key));
    KeyVersionRecord newest = b.store().findLatestVersion(key.keyId()).orElseThrow();
    assertThat(newest.versionNumber()).isEqualTo(2);
    assertThat(a.store().findVersion(key.keyId(), newest.versionId())).isPresent();
    byte[] plaintext = "rotated in the new primary".getBytes(StandardCharsets.UTF_8);
    byte[] blob = b.crypto().encrypt(id(key), plaintext, CONTEXT).blob();
    assertThat(a.crypto().decrypt(blob, CONTEXT, null).bytes()).isEqualTo(plaintext);
    // Only the primary's region moves the role: in A, naming A, is refused.
    assertFails(
        KmsError.UNSUPPORTED_OPERATION,
        () -> a.multiRegion().updatePrimaryRegion(id(key), REGION_A));

    // And back, called in B.
    b.multiRegion().updatePrimaryRegion(id(key), REGION_A);
    assertPrimaryIn(key, REGION_A, REGION_B);
    assertThat(a.rotations().getKeyRotationStatus(id(key)).periodDays()).contains(180);
    assertThat(b.rotations().getKeyRotationStatus(id(key)).enabled()).isFalse();
  }

  @Test
  void anUpdateWhoseAnswerIsLost_leavesTheOldPrimaryUpdating_andARetryCompletesIt() {
    KeyMetadata key = newPrimary();
    a.multiRegion().replicateKey(id(key), REGION_B, null, null, null);

    updatePrimaryFaultOnB.set(Fault.ANSWER_LOST);
    try {
      assertFails(
          KmsError.DEPENDENCY_TIMEOUT,
          () -> a.multiRegion().updatePrimaryRegion(id(key), REGION_B));
    } finally {
      updatePrimaryFaultOnB.set(Fault.NONE);
    }
    // B took the role; A does not know it, and does not act as the primary: it is Updating,
    // usable for cryptography, but neither rotates nor replicates nor hands the role elsewhere.
    assertThat(regions(b, key).keyType()).isEqualTo("PRIMARY");
    assertThat(state(a, key)).isEqualTo(KeyState.UPDATING);
    assertThat(a.keys().describeKey(id(key)).enabled()).isTrue();
    byte[] plaintext = "while updating".getBytes(StandardCharsets.UTF_8);
    byte[] blob = a.crypto().encrypt(id(key), plaintext, CONTEXT).blob();
    assertThat(b.crypto().decrypt(blob, CONTEXT, null).bytes()).isEqualTo(plaintext);
    assertFails(KmsError.INVALID_STATE, () -> a.rotations().rotateKeyOnDemand(id(key)));
    assertFails(
        KmsError.INVALID_STATE,
        () -> a.multiRegion().replicateKey(id(key), REGION_B, null, null, null));
    assertFails(KmsError.INVALID_STATE, () -> a.lifecycle().disableKey(id(key)));
    assertThat(a.store().multiRegionKeys().versions(key.keyId())).hasSize(1);

    a.multiRegion().updatePrimaryRegion(id(key), REGION_B);
    assertPrimaryIn(key, REGION_B, REGION_A);
  }

  @Test
  void anUpdateThatCannotReachTheNewPrimary_changesNothingThere_andARetryCompletesIt() {
    KeyMetadata key = newPrimary();
    a.multiRegion().replicateKey(id(key), REGION_B, null, null, null);

    updatePrimaryFaultOnB.set(Fault.UNREACHABLE);
    try {
      assertFails(
          KmsError.DEPENDENCY_TIMEOUT,
          () -> a.multiRegion().updatePrimaryRegion(id(key), REGION_B));
    } finally {
      updatePrimaryFaultOnB.set(Fault.NONE);
    }
    // B is still a replica of A, and A waits for B's answer: no region acts as a second primary.
    assertThat(regions(b, key).keyType()).isEqualTo("REPLICA");
    assertThat(regions(b, key).primaryKey().region()).isEqualTo(REGION_A);
    assertFails(KmsError.UNSUPPORTED_OPERATION, () -> b.rotations().rotateKeyOnDemand(id(key)));
    assertThat(state(a, key)).isEqualTo(KeyState.UPDATING);
    assertFails(KmsError.INVALID_STATE, () -> a.rotations().rotateKeyOnDemand(id(key)));

    a.multiRegion().updatePrimaryRegion(id(key), REGION_B);
    assertPrimaryIn(key, REGION_B, REGION_A);
  }

  @Test
  void theNewPrimarysFirstRotation_completesAHandOverWhoseAnswerWasLost() {
    KeyMetadata key = newPrimary();
    a.multiRegion().replicateKey(id(key), REGION_B, null, null, null);
    updatePrimaryFaultOnB.set(Fault.ANSWER_LOST);
    try {
      assertFails(
          KmsError.DEPENDENCY_TIMEOUT,
          () -> a.multiRegion().updatePrimaryRegion(id(key), REGION_B));
    } finally {
      updatePrimaryFaultOnB.set(Fault.NONE);
    }

    b.rotations().rotateKeyOnDemand(id(key));

    assertPrimaryIn(key, REGION_B, REGION_A);
    assertThat(a.store().multiRegionKeys().versions(key.keyId())).hasSize(2);
  }

  @Test
  void anUpdateTheNewPrimaryRefuses_leavesBothRegionsAsTheyWere() {
    KeyMetadata key = newPrimary();
    a.multiRegion().replicateKey(id(key), REGION_B, null, null, null);
    b.lifecycle().disableKey(id(key));

    assertFails(KmsError.DISABLED, () -> a.multiRegion().updatePrimaryRegion(id(key), REGION_B));

    assertThat(regions(a, key).keyType()).isEqualTo("PRIMARY");
    assertThat(state(a, key)).isEqualTo(KeyState.ENABLED);
    assertThat(regions(b, key).keyType()).isEqualTo("REPLICA");
    a.rotations().rotateKeyOnDemand(id(key));
    assertThat(b.store().multiRegionKeys().versions(key.keyId())).hasSize(2);
  }

  @Test
  void updatePrimaryRegion_validatesBeforeItChangesAnything() {
    KeyMetadata single = a.keys().createKey(ACCOUNT, CreateKeyRequest.of("single"));
    assertFails(
        KmsError.UNSUPPORTED_OPERATION,
        () -> a.multiRegion().updatePrimaryRegion(single.keyId().toString(), REGION_B));
    KeyMetadata key = newPrimary();
    assertFails(KmsError.VALIDATION, () -> a.multiRegion().updatePrimaryRegion(id(key), ""));
    assertFails(KmsError.VALIDATION, () -> a.multiRegion().updatePrimaryRegion(id(key), REGION_A));
    // No replica in B yet.
    assertFails(KmsError.VALIDATION, () -> a.multiRegion().updatePrimaryRegion(id(key), REGION_B));
    a.multiRegion().replicateKey(id(key), REGION_B, null, null, null);
    // In a replica's region, naming another region than its primary's: refused. Naming its
    // primary's region (as a retry does, after a hand-over) changes nothing.
    assertFails(
        KmsError.UNSUPPORTED_OPERATION,
        () -> b.multiRegion().updatePrimaryRegion(id(key), "region-c"));
    b.multiRegion().updatePrimaryRegion(id(key), REGION_A);
    assertPrimaryIn(key, REGION_A, REGION_B);
    a.lifecycle().disableKey(id(key));
    assertFails(KmsError.DISABLED, () -> a.multiRegion().updatePrimaryRegion(id(key), REGION_B));
    assertThat(regions(a, key).keyType()).isEqualTo("PRIMARY");
    assertThat(regions(b, key).keyType()).isEqualTo("REPLICA");
  }

  private static String policyFor(String principal) {
    return "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
        + "\"Principal\":{\"AWS\":\""
        + principal
        + "\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}";
  }

  @Test
  void aReplica_hasThePolicyReplicateKeyNames_orItsRegionsDefault_notThePrimarys() {
    KeyMetadata key =
        a.keys()
            .createKey(
                ACCOUNT,
                new CreateKeyRequest(
                    "the primary's", null, null, List.of(new Tag("team", "a")), null, true));
    a.store().access().putPolicy(key.keyId(), policyFor("spiffe://a/admin"), Instant.now());

    a.multiRegion().replicateKey(id(key), REGION_B, null, null, null);

    // No Policy: nothing stored in B, so B's default key policy (its administrators') applies;
    // no Tags and no Description: none, as AWS (they are not shared properties).
    assertThat(b.store().access().findPolicy(key.keyId())).isEmpty();
    assertThat(b.store().listTags(key.keyId(), 10, Optional.empty()).items()).isEmpty();
    assertThat(b.keys().describeKey(id(key)).description()).isEmpty();

    KeyMetadata other = newPrimary();
    assertFails(
        KmsError.MALFORMED_POLICY,
        () -> a.multiRegion().replicateKey(id(other), REGION_B, "{not json", null, null));
    assertThat(b.store().findKey(other.keyId())).isEmpty();
    String policyB = policyFor("spiffe://b/admin");
    a.multiRegion()
        .replicateKey(id(other), REGION_B, policyB, List.of(new Tag("team", "b")), "B's");
    assertThat(b.store().access().findPolicy(other.keyId())).contains(policyB);
    assertThat(b.store().listTags(other.keyId(), 10, Optional.empty()).items())
        .extracting(t -> t.tagKey() + "=" + t.tagValue())
        .containsExactly("team=b");
    assertThat(b.keys().describeKey(id(other)).description()).isEqualTo("B's");
  }

  private static int deleteDue(Region region, Duration later) {
    return new DeletionTask(
            region.store(), Clock.offset(Clock.systemUTC(), later), region.multiRegion())
        .runDueDeletions();
  }

  @Test
  void deletingAPrimary_waitsForItsReplicas_andAReplicasDeletionTellsThePrimary() {
    KeyMetadata key = newPrimary();
    a.multiRegion().replicateKey(id(key), REGION_B, null, null, null);
    byte[] plaintext = "deleted last".getBytes(StandardCharsets.UTF_8);

    var scheduled = a.lifecycle().scheduleKeyDeletion(id(key), 7);

    // As AWS: PendingReplicaDeletion, no deletion date yet, the waiting period kept for later.
    assertThat(scheduled.keyState()).isEqualTo(KeyState.PENDING_REPLICA_DELETION);
    assertThat(scheduled.deletionDate()).isNull();
    assertThat(scheduled.pendingWindowInDays()).isEqualTo(7);
    KeyMetadata inA = a.keys().describeKey(id(key));
    assertThat(inA.keyState()).isEqualTo(KeyState.PENDING_REPLICA_DELETION);
    assertThat(inA.deletionDate()).isEmpty();
    assertFails(KmsError.INVALID_STATE, () -> a.crypto().encrypt(id(key), plaintext, CONTEXT));
    assertFails(
        KmsError.INVALID_STATE,
        () -> a.multiRegion().replicateKey(id(key), REGION_B, null, null, null));
    assertFails(KmsError.INVALID_STATE, () -> a.lifecycle().scheduleKeyDeletion(id(key), 7));
    assertThat(deleteDue(a, Duration.ofDays(100))).isZero();
    assertThat(a.store().findKey(key.keyId())).isPresent();
    byte[] blob = b.crypto().encrypt(id(key), plaintext, CONTEXT).blob();

    // The replica's own waiting period; when it is over, A cannot be told: B keeps its replica.
    assertThat(b.lifecycle().scheduleKeyDeletion(id(key), 7).keyState())
        .isEqualTo(KeyState.PENDING_DELETION);
    replicaDeletedFaultOnA.set(Fault.UNREACHABLE);
    try {
      assertThat(deleteDue(b, Duration.ofDays(8))).isZero();
    } finally {
      replicaDeletedFaultOnA.set(Fault.NONE);
    }
    assertThat(b.store().findKey(key.keyId())).isPresent();
    assertThat(state(a, key)).isEqualTo(KeyState.PENDING_REPLICA_DELETION);

    // At the next pass A hears of it and starts its own waiting period.
    assertThat(deleteDue(b, Duration.ofDays(8))).isEqualTo(1);
    assertThat(b.store().findKey(key.keyId())).isEmpty();
    inA = a.keys().describeKey(id(key));
    assertThat(inA.keyState()).isEqualTo(KeyState.PENDING_DELETION);
    assertThat(inA.deletionDate().orElseThrow())
        .isBetween(
            Instant.now().plus(Duration.ofDays(7)).minusSeconds(60),
            Instant.now().plus(Duration.ofDays(7)));
    assertThat(inA.multiRegionConfiguration().orElseThrow().replicaKeys()).isEmpty();
    assertThat(deleteDue(a, Duration.ofDays(6))).isZero();
    assertThat(deleteDue(a, Duration.ofDays(8))).isEqualTo(1);
    assertThat(a.store().findKey(key.keyId())).isEmpty();
    assertFails(KmsError.NOT_FOUND, () -> a.crypto().decrypt(blob, CONTEXT, null));
  }

  /**
   * ReplicateKey of {@code key} to B, held when it reaches B (every check in A passed, the replica
   * not made yet) until {@code meanwhile} has run in A.
   */
  private static CompletableFuture<KeyMetadata> replicateWhile(KeyMetadata key, Runnable meanwhile)
      throws InterruptedException {
    Pause pause = new Pause();
    receiveReplicaPauseOnB.set(pause);
    CompletableFuture<KeyMetadata> replication =
        CompletableFuture.supplyAsync(
            () -> a.multiRegion().replicateKey(id(key), REGION_B, null, null, null));
    try {
      pause.awaitArrival();
      meanwhile.run();
    } finally {
      receiveReplicaPauseOnB.set(null);
      pause.released.countDown();
    }
    return replication;
  }

  @Test
  void aDeletionScheduledWhileAReplicaIsBeingMade_waitsForThatReplica() throws Exception {
    KeyMetadata key = newPrimary();
    AtomicReference<KeyLifecycleService.ScheduledDeletion> scheduled = new AtomicReference<>();

    CompletableFuture<KeyMetadata> replication =
        replicateWhile(key, () -> scheduled.set(a.lifecycle().scheduleKeyDeletion(id(key), 7)));

    // The replica being made counts as a replica: the primary waits for it, and is not deleted
    // while it exists.
    assertThat(scheduled.get().keyState()).isEqualTo(KeyState.PENDING_REPLICA_DELETION);
    assertThat(scheduled.get().deletionDate()).isNull();
    replication.get(60, TimeUnit.SECONDS);
    assertThat(b.store().findKey(key.keyId())).isPresent();
    assertThat(regions(a, key).replicaKeys()).extracting(r -> r.region()).containsExactly(REGION_B);
    assertThat(state(a, key)).isEqualTo(KeyState.PENDING_REPLICA_DELETION);
    assertThat(deleteDue(a, Duration.ofDays(100))).isZero();
    assertThat(a.store().findKey(key.keyId())).isPresent();
  }

  @Test
  void aReplicationThatFailsWhileThePrimaryWaitsForIt_startsThePrimarysWaitingPeriod()
      throws Exception {
    KeyMetadata key = newPrimary();
    AtomicReference<KeyLifecycleService.ScheduledDeletion> scheduled = new AtomicReference<>();

    failUnwrapsOnB.set(0);
    CompletableFuture<KeyMetadata> replication;
    try {
      replication =
          replicateWhile(key, () -> scheduled.set(a.lifecycle().scheduleKeyDeletion(id(key), 7)));
      assertThatThrownBy(() -> replication.get(60, TimeUnit.SECONDS))
          .hasCauseInstanceOf(KmsException.class);
    } finally {
      failUnwrapsOnB.set(-1);
    }

    assertThat(scheduled.get().keyState()).isEqualTo(KeyState.PENDING_REPLICA_DELETION);
    assertThat(b.store().findKey(key.keyId())).isEmpty();
    KeyMetadata inA = a.keys().describeKey(id(key));
    assertThat(inA.keyState()).isEqualTo(KeyState.PENDING_DELETION);
    assertThat(inA.deletionDate().orElseThrow())
        .isBetween(
            Instant.now().plus(Duration.ofDays(7)).minusSeconds(60),
            Instant.now().plus(Duration.ofDays(7)));
    assertThat(inA.multiRegionConfiguration().orElseThrow().replicaKeys()).isEmpty();
    // Pending deletion: no replica is made any more.
    assertFails(
        KmsError.INVALID_STATE,
        () -> a.multiRegion().replicateKey(id(key), REGION_B, null, null, null));
    assertThat(b.store().findKey(key.keyId())).isEmpty();
    a.lifecycle().cancelKeyDeletion(id(key)); // not due in the other tests' deletion passes
  }

  @Test
  void aPrimaryWaitingForItsReplicas_canBeCancelled_andIsThenDisabled() {
    KeyMetadata key = newPrimary();
    a.multiRegion().replicateKey(id(key), REGION_B, null, null, null);
    a.lifecycle().scheduleKeyDeletion(id(key), 30);

    a.lifecycle().cancelKeyDeletion(id(key));

    assertThat(state(a, key)).isEqualTo(KeyState.DISABLED);
    assertThat(a.keys().describeKey(id(key)).pendingDeletionWindowInDays()).isEmpty();
    a.lifecycle().enableKey(id(key));
    a.rotations().rotateKeyOnDemand(id(key));
    assertThat(b.store().multiRegionKeys().versions(key.keyId())).hasSize(2);
  }

  @Test
  void hmacAndAsymmetricMultiRegionKeys_areRefused_beforeAnyTokenCall() {
    a.hsm().evictCachedBackingKeys();
    int objects = a.hsm().visibleObjectCount();
    int keys = a.store().listKeys(1000, Optional.empty()).keys().size();
    for (var spec :
        List.of(
            new CreateKeyRequest(
                "mac", KeyUsage.GENERATE_VERIFY_MAC, KeySpec.HMAC_256, List.of(), null, true),
            new CreateKeyRequest(
                "rsa", KeyUsage.ENCRYPT_DECRYPT, KeySpec.RSA_2048, List.of(), null, true),
            new CreateKeyRequest(
                "ecc", KeyUsage.SIGN_VERIFY, KeySpec.ECC_NIST_P256, List.of(), null, true))) {
      assertFails(KmsError.UNSUPPORTED_OPERATION, () -> a.keys().createKey(ACCOUNT, spec));
    }
    assertThat(a.hsm().visibleObjectCount()).isEqualTo(objects);
    assertThat(a.store().listKeys(1000, Optional.empty()).keys()).hasSize(keys);
  }
}
