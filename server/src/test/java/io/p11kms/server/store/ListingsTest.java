package io.p11kms.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Paged listings (tags, aliases, rotations), keys due for scheduled work, and the record of retired
 * domain keys.
 */
abstract class ListingsTest extends StoreContractPart {
  private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");

  /** Every item of a listing, page after page. */
  private static <T> List<T> all(Function<Optional<String>, Page<T>> list) {
    List<T> items = new ArrayList<>();
    Optional<String> marker = Optional.empty();
    do {
      Page<T> page = list.apply(marker);
      items.addAll(page.items());
      marker = page.nextMarker();
    } while (marker.isPresent());
    return items;
  }

  @Test
  void listTags_pagesInTagKeyOrder_andUntagRemovesOnlyTheNamedOnes() {
    UUID id = create();
    assertThat(
            store.tagKey(
                id, "ENABLED", Map.of("c", "3", "a", "1", "\u00e9t\u00e9", "4", "b", "2"), 50))
        .isTrue();
    assertThat(all(m -> store.listTags(id, 2, m)))
        .extracting(TagRecord::tagKey)
        .containsExactly("a", "b", "c", "\u00e9t\u00e9");

    assertThat(store.untagKey(id, "ENABLED", List.of("b", "absent"))).isTrue();
    assertThat(store.untagKey(id, "DISABLED", List.of("a"))).isFalse();
    assertThat(all(m -> store.listTags(id, 1000, m)))
        .containsExactly(
            new TagRecord("a", "1"), new TagRecord("c", "3"), new TagRecord("\u00e9t\u00e9", "4"));
    assertThatThrownBy(() -> store.listTags(id, 1, Optional.of(PageMarkers.encodeMarker(1))))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void listAliases_allOrOneKeys_inCreationOrder() {
    UUID first = create();
    UUID second = create();
    for (String name : List.of("alias/z", "alias/y", "alias/x")) {
      store.createAlias(new AliasRecord(name, first, NOW, NOW), "ENABLED");
    }
    store.createAlias(new AliasRecord("alias/w", second, NOW, NOW), "ENABLED");

    assertThat(all(m -> store.listAliases(Optional.empty(), 3, m)))
        .extracting(AliasRecord::aliasName)
        .containsExactly("alias/z", "alias/y", "alias/x", "alias/w");
    assertThat(all(m -> store.listAliases(Optional.of(first), 1, m)))
        .extracting(AliasRecord::aliasName)
        .containsExactly("alias/z", "alias/y", "alias/x");

    assertThat(store.updateAlias("alias/x", second, "ENABLED", NOW.plusSeconds(1))).isTrue();
    assertThat(store.findAlias("alias/x").orElseThrow().keyId()).isEqualTo(second);
    assertThat(store.deleteAlias("alias/z")).isTrue();
    assertThat(store.deleteAlias("alias/z")).isFalse();
    assertThat(all(m -> store.listAliases(Optional.of(first), 10, m)))
        .extracting(AliasRecord::aliasName)
        .containsExactly("alias/y");
  }

  @Test
  void listRotations_pagesOldestFirst_andTheScheduleNamesTheLastOnDemandOne() {
    UUID id = create();
    List<UUID> versions = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      RotationRecord r = new RotationRecord(id, UUID.randomUUID(), NOW.plusSeconds(i), "ON_DEMAND");
      versions.add(
          store
              .addRotation(r, "ENABLED", null, null, 1, 1, new byte[40])
              .orElseThrow()
              .versionId());
    }
    assertThat(all(m -> store.listRotations(id, 2, m)))
        .extracting(RotationRecord::versionId)
        .containsExactlyElementsOf(versions);
    assertThat(store.findLatestVersion(id).orElseThrow().versionNumber()).isEqualTo(4);
    RotationSchedule schedule = store.findRotationSchedule(id).orElseThrow();
    assertThat(schedule.lastOnDemandRotation()).isEqualTo(NOW.plusSeconds(2));
  }

  @Test
  void keysDue_areTheDueOnesInDateOrder() {
    UUID later = create();
    UUID sooner = create();
    UUID notYet = create();
    store.setRotationSchedule(later, "ENABLED", 90, NOW.minusSeconds(1));
    store.setRotationSchedule(sooner, "ENABLED", 90, NOW.minusSeconds(2));
    store.setRotationSchedule(notYet, "ENABLED", 90, NOW.plusSeconds(1));
    assertThat(store.findKeysDueForRotation(NOW, 10)).containsExactly(sooner, later);
    assertThat(store.findKeysDueForRotation(NOW, 1)).containsExactly(sooner);

    store.updateKeyState(later, "ENABLED", "PENDING_DELETION", NOW, 7);
    store.updateKeyState(notYet, "ENABLED", "PENDING_DELETION", NOW.plusSeconds(1), 7);
    assertThat(store.findKeysDueForDeletion(NOW, 10)).containsExactly(later);
    assertThat(store.findKeysDueForRotation(NOW, 10)).containsExactly(sooner);
  }

  @Test
  void retiredDomainKeys_areRecordedOnce_inGenerationOrder() {
    create();
    assertThat(store.countVersionsByGeneration()).containsExactly(Map.entry(1, 1L));
    assertThat(store.retireDomainKey(3, NOW)).isTrue();
    assertThat(store.retireDomainKey(2, NOW)).isTrue();
    assertThat(store.retireDomainKey(3, NOW)).isFalse();
    assertThat(store.retiredDomainKeys()).containsExactly(2, 3);
  }
}
