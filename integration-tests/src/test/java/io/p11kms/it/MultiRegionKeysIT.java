package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.TokenCallInterceptor;
import io.p11kms.hsm.domain.DomainKeyCeremony;
import io.p11kms.hsm.domain.RegionPeering;
import io.p11kms.hsm.domain.TransportKey;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import io.p11kms.hsm.testing.TempDirs;
import io.p11kms.server.Tls;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.config.RegionConfig;
import io.p11kms.server.config.SecurityConfig;
import io.p11kms.server.grpc.PrincipalInterceptor;
import io.p11kms.server.region.GrpcRegionPeers;
import io.p11kms.server.region.RegionPeerGrpcService;
import io.p11kms.server.service.CreateKeyRequest;
import io.p11kms.server.service.CryptoService;
import io.p11kms.server.service.KeyMetadata;
import io.p11kms.server.service.KeyRotationService;
import io.p11kms.server.service.KeyService;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.service.MultiRegionService;
import io.p11kms.server.service.RegionPeers;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyStores;
import io.p11kms.server.store.KeyVersionRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
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
  private static final String PRINCIPAL_A = "spiffe://p11kms.test/region/" + REGION_A;
  private static final String ACCOUNT = "111122223333";
  private static final Map<String, String> CONTEXT = Map.of("purpose", "multi-region");

  private static Path dir;
  private static SoftHsmTestToken tokenA;
  private static SoftHsmTestToken tokenB;
  private static Region a;
  private static Region b;
  private static Server peerServerB;
  private static GrpcRegionPeers peersA;
  private static final AtomicInteger failUnwrapsOnB = new AtomicInteger(-1);

  /** One region's token, store and services. */
  private record Region(
      Pkcs11Hsm hsm,
      KeyStore store,
      KeyService keys,
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
    tokenA = SoftHsmTestToken.create();
    tokenB = SoftHsmTestToken.createBeside(tokenA);
    char[] soPinB = tokenB.soPin();
    try {
      DomainKeyCeremony.createDomainKey(tokenB.modulePath(), tokenB.label(), soPinB, 1);
    } finally {
      Arrays.fill(soPinB, '\0');
    }
    TestPki pki = TestPki.create(dir, "regions");
    TestPki.Issued serverCert = pki.server();
    TestPki.Issued clientA = pki.client("region-a", PRINCIPAL_A);

    // Region B: its token, its store, and its peer service, which serves only A's principal.
    TokenCallInterceptor faults =
        function ->
            function.equals("C_UnwrapKey") && failUnwrapsOnB.getAndDecrement() == 0
                ? org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_GENERAL_ERROR
                : 0L;
    b = Region.open(tokenB, faults, dir.resolve("b.db"), REGION_B, RegionPeers.NONE);
    RegionConfig configB =
        new RegionConfig(
            Map.of(REGION_A, new RegionConfig.Peer(REGION_A, "unused:1", "localhost", PRINCIPAL_A)),
            "127.0.0.1",
            0,
            null,
            null,
            null);
    SecurityConfig securityB =
        new SecurityConfig(
            serverCert.cert(),
            serverCert.key(),
            pki.caFile(),
            List.of(),
            dir.resolve("audit-b.log"),
            100,
            Duration.ofMinutes(10),
            "audit-key");
    peerServerB =
        Tls.serverBuilder("127.0.0.1", 0, securityB)
            .addService(
                ServerInterceptors.intercept(
                    new RegionPeerGrpcService(configB, b.multiRegion()),
                    new PrincipalInterceptor(true)))
            .build()
            .start();

    // The peering ceremony: B's transport key, its fingerprint confirmed, trusted by A's SO.
    TransportKey transportB = b.hsm().regionTransportKey();
    char[] soPinA = tokenA.soPin();
    try {
      RegionPeering.trust(
          tokenA.modulePath(),
          tokenA.label(),
          soPinA,
          REGION_B,
          transportB,
          transportB.fingerprint());
    } finally {
      Arrays.fill(soPinA, '\0');
    }

    // Region A reaches B with its own region certificate; B's server must be "localhost".
    peersA =
        new GrpcRegionPeers(
            new RegionConfig(
                Map.of(
                    REGION_B,
                    new RegionConfig.Peer(
                        REGION_B,
                        "127.0.0.1:" + peerServerB.getPort(),
                        "localhost",
                        "spiffe://p11kms.test/region/" + REGION_B)),
                "127.0.0.1",
                0,
                clientA.cert(),
                clientA.key(),
                pki.caFile()));
    a = Region.open(tokenA, TokenCallInterceptor.NONE, dir.resolve("a.db"), REGION_A, peersA);
  }

  @AfterAll
  static void close() throws Exception {
    if (peersA != null) {
      peersA.close();
    }
    if (peerServerB != null) {
      peerServerB.shutdownNow();
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
}
