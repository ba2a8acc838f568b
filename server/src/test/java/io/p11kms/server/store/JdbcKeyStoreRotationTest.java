package io.p11kms.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Migration 3: rotation schedule, rotations by compare-and-set, re-wrapped EKTs by generation. */
abstract class JdbcKeyStoreRotationTest extends StoreContractPart {
  private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
  private static final byte[] EKT = new byte[40];

  private Optional<KeyVersionRecord> rotate(UUID id, Instant expectedNext, Instant newNext) {
    return store.addRotation(
        new RotationRecord(id, UUID.randomUUID(), NOW, "AUTOMATIC"),
        "ENABLED",
        expectedNext,
        newNext,
        1,
        1,
        EKT);
  }

  @Test
  void automaticRotation_isCompareAndSetOnTheNextDate_oneDueDateGivesOneVersion() {
    UUID id = create();
    Instant due = NOW.plus(Duration.ofDays(90));
    assertThat(store.setRotationSchedule(id, "ENABLED", 90, due)).isTrue();

    Instant next = due.plus(Duration.ofDays(90));
    assertThat(rotate(id, due, next))
        .get()
        .extracting(KeyVersionRecord::versionNumber)
        .isEqualTo(2);
    assertThat(rotate(id, due, next)).isEmpty();

    assertThat(store.findLatestVersion(id).orElseThrow().versionNumber()).isEqualTo(2);
    assertThat(store.findRotationSchedule(id).orElseThrow().nextRotationDate()).isEqualTo(next);
    assertThat(store.listRotations(id, 10, Optional.empty()).items()).hasSize(1);
  }

  @Test
  void rotation_ofAKeyNotInTheExpectedState_writesNothing() {
    UUID id = create();
    store.updateKeyState(id, "ENABLED", "DISABLED", null, null);
    assertThat(rotate(id, null, null)).isEmpty();
    assertThat(store.findLatestVersion(id).orElseThrow().versionNumber()).isEqualTo(1);
  }

  @Test
  void deleteKey_deletesItsRotationsToo() {
    UUID id = create();
    rotate(id, null, null);
    store.updateKeyState(id, "ENABLED", "PENDING_DELETION", NOW, 7);
    assertThat(store.deleteKey(id, NOW)).isTrue();
    assertThat(store.listRotations(id, 10, Optional.empty()).items()).isEmpty();
    assertThat(store.findVersion(id, UUID.randomUUID())).isEmpty();
  }

  @Test
  void replaceEkts_isCompareAndSetOnTheGeneration() {
    UUID id = create();
    KeyVersionRecord v1 = store.findLatestVersion(id).orElseThrow();
    int from = v1.domainKeyGeneration();
    KeyVersionRecord moved =
        new KeyVersionRecord(
            id, v1.versionId(), 1, v1.createdAt(), from + 1, v1.wrapMechanismCode(), EKT);
    assertThat(store.findVersionsBelowGeneration(from + 1, 10)).containsExactly(v1);

    assertThat(store.replaceEkts(List.of(Map.entry(v1, moved)))).isEqualTo(1);
    assertThat(store.replaceEkts(List.of(Map.entry(v1, moved)))).isZero();

    assertThat(store.findLatestVersion(id).orElseThrow()).isEqualTo(moved);
    assertThat(store.findVersionsBelowGeneration(from + 1, 10)).isEmpty();
    assertThat(store.countVersionsByGeneration()).containsExactly(Map.entry(from + 1, 1L));
    assertThat(store.retireDomainKey(from, NOW)).isTrue();
    assertThat(store.retireDomainKey(from, NOW)).isFalse();
    assertThat(store.retiredDomainKeys()).containsExactly(from);
  }
}
