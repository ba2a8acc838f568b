package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyStores;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.kms.model.KeyState;
import software.amazon.awssdk.services.kms.model.MultiRegionConfiguration;
import software.amazon.awssdk.services.kms.model.MultiRegionKey;
import software.amazon.awssdk.services.kms.model.MultiRegionKeyType;

/**
 * Three regions, each a real server with its own token and database ({@link PeeredRegions}), every
 * one peered with the others: DescribeKey's MultiRegionConfiguration (the primary and every
 * replica) is the same from each region's key after a replica is made, after one is deleted and
 * after the primary moves; a region that cannot be reached at the time learns it at the next pass
 * of the region that tells it.
 */
class MultiRegionThreeRegionsIT {
  private static final String REGION_A = "region-a";
  private static final String REGION_B = "region-b";
  private static final String REGION_C = "region-c";
  private static final List<String> ALL = List.of(REGION_A, REGION_B, REGION_C);

  private static PeeredRegions regions;

  @BeforeAll
  static void threePeeredRegions() throws Exception {
    regions = PeeredRegions.start(REGION_A, REGION_B, REGION_C);
  }

  @AfterAll
  static void close() throws Exception {
    if (regions != null) {
      regions.close();
    }
  }

  private static PeeredRegions.Region region(String name) {
    return regions.region(name);
  }

  private static String newPrimaryIn(String name) {
    return region(name)
        .kms()
        .createKey(k -> k.multiRegion(true).description("three regions"))
        .keyMetadata()
        .keyId();
  }

  private static void replicate(String key, String to) {
    region(REGION_A).kms().replicateKey(r -> r.keyId(key).replicaRegion(to));
  }

  private static MultiRegionConfiguration configurationIn(String name, String key) {
    return region(name)
        .kms()
        .describeKey(d -> d.keyId(key))
        .keyMetadata()
        .multiRegionConfiguration();
  }

  /** Whether {@code name}'s key shows {@code primary} and exactly {@code replicas}. */
  private static boolean shows(String name, String key, String primary, List<String> replicas) {
    MultiRegionConfiguration c = configurationIn(name, key);
    return c.primaryKey().region().equals(primary)
        && c.replicaKeys().stream().map(MultiRegionKey::region).toList().equals(replicas);
  }

  /** Every region of the key shows the same: {@code primary} and {@code replicas}, each's ARN. */
  private static void assertEveryRegionShows(String key, String primary, List<String> replicas) {
    for (String name : ALL) {
      if (!name.equals(primary) && !replicas.contains(name)) {
        continue;
      }
      MultiRegionConfiguration c = configurationIn(name, key);
      assertThat(c.multiRegionKeyType())
          .as("in " + name)
          .isEqualTo(
              name.equals(primary) ? MultiRegionKeyType.PRIMARY : MultiRegionKeyType.REPLICA);
      assertThat(c.primaryKey().region()).as("in " + name).isEqualTo(primary);
      assertThat(c.primaryKey().arn()).isEqualTo(arn(primary, key));
      assertThat(c.replicaKeys())
          .as("in " + name)
          .extracting(MultiRegionKey::region)
          .containsExactlyElementsOf(replicas);
      assertThat(c.replicaKeys())
          .extracting(MultiRegionKey::arn)
          .containsExactlyElementsOf(replicas.stream().map(r -> arn(r, key)).toList());
    }
  }

  private static String arn(String region, String key) {
    return "arn:aws:kms:" + region + ":" + PeeredRegions.ACCOUNT + ":key/" + key;
  }

  /**
   * Runs every region's announcement pass (as its schedule does) until {@code name}'s key shows
   * {@code primary} and {@code replicas}: a peer listener just served again may take a few seconds
   * to be reached.
   */
  private static void passUntil(String name, String key, String primary, List<String> replicas)
      throws InterruptedException {
    Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
    while (!shows(name, key, primary, replicas) && Instant.now().isBefore(deadline)) {
      for (String each : ALL) {
        region(each).server().work().runRegionAnnouncements();
      }
      Thread.sleep(250);
    }
  }

  @Test
  void aReplicaMadeLater_isKnownToTheReplicasMadeBefore() {
    String key = newPrimaryIn(REGION_A);
    replicate(key, REGION_B);
    replicate(key, REGION_C);

    // Told at once, no pass needed.
    assertEveryRegionShows(key, REGION_A, List.of(REGION_B, REGION_C));
  }

  @Test
  void aReplicaMadeWhileAnotherRegionIsCutOff_isKnownThereAfterTheNextPass() throws Exception {
    String key = newPrimaryIn(REGION_A);
    replicate(key, REGION_B);
    Runnable reconnect = regions.cutOff(REGION_B);
    try {
      replicate(key, REGION_C);
      assertThat(shows(REGION_B, key, REGION_A, List.of(REGION_B))).isTrue();
    } finally {
      reconnect.run();
    }

    passUntil(REGION_B, key, REGION_A, List.of(REGION_B, REGION_C));
    assertEveryRegionShows(key, REGION_A, List.of(REGION_B, REGION_C));
  }

  @Test
  void aReplicaDeleted_isForgottenInEveryRegion_evenOneCutOffAtTheTime() throws Exception {
    String key = newPrimaryIn(REGION_A);
    replicate(key, REGION_B);
    replicate(key, REGION_C);
    region(REGION_C).kms().scheduleKeyDeletion(s -> s.keyId(key).pendingWindowInDays(7));
    dueNow(REGION_C, key);

    Runnable reconnect = regions.cutOff(REGION_B);
    try {
      // C tells A, A counts C out and cannot tell B yet.
      assertThat(region(REGION_C).server().work().runDueDeletions()).isEqualTo(1);
      assertThat(shows(REGION_A, key, REGION_A, List.of(REGION_B))).isTrue();
      assertThat(shows(REGION_B, key, REGION_A, List.of(REGION_B, REGION_C))).isTrue();
    } finally {
      reconnect.run();
    }

    passUntil(REGION_B, key, REGION_A, List.of(REGION_B));
    assertEveryRegionShows(key, REGION_A, List.of(REGION_B));
  }

  @Test
  void thePrimaryMoved_isKnownInEveryRegion_evenOneCutOffAtTheTime() throws Exception {
    String key = newPrimaryIn(REGION_A);
    replicate(key, REGION_B);
    replicate(key, REGION_C);

    Runnable reconnect = regions.cutOff(REGION_C);
    try {
      // The hand-over is complete once B has the role; C is told at the next pass.
      region(REGION_A).kms().updatePrimaryRegion(u -> u.keyId(key).primaryRegion(REGION_B));
      assertThat(shows(REGION_B, key, REGION_B, List.of(REGION_A, REGION_C))).isTrue();
      assertThat(shows(REGION_A, key, REGION_B, List.of(REGION_A, REGION_C))).isTrue();
      assertThat(shows(REGION_C, key, REGION_A, List.of(REGION_B, REGION_C))).isTrue();
    } finally {
      reconnect.run();
    }

    passUntil(REGION_C, key, REGION_B, List.of(REGION_A, REGION_C));
    assertEveryRegionShows(key, REGION_B, List.of(REGION_A, REGION_C));
    for (String name : ALL) {
      assertThat(region(name).kms().describeKey(d -> d.keyId(key)).keyMetadata().keyState())
          .as("in " + name)
          .isEqualTo(KeyState.ENABLED);
    }
    // The new primary replicates and moves the role on: C heard of it and takes it from B.
    region(REGION_B).kms().updatePrimaryRegion(u -> u.keyId(key).primaryRegion(REGION_C));
    assertEveryRegionShows(key, REGION_C, List.of(REGION_A, REGION_B));
  }

  /** Makes the replica in {@code name}, pending deletion, due now (its waiting period over). */
  private static void dueNow(String name, String key) {
    UUID id = KeyArns.parseKeyId(key).orElseThrow();
    String url = "jdbc:sqlite:" + region(name).config().resolveSibling("p11kms.db");
    try (KeyStore store = KeyStores.open(url)) {
      assertThat(
              store.updateKeyState(
                  id, "PENDING_DELETION", "PENDING_DELETION", Instant.now().minusSeconds(1), 7))
          .isTrue();
    }
  }
}
