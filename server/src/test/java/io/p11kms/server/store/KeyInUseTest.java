package io.p11kms.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * {@link KeyStore#findKeyInUse}: one query for key, version and policy, never a stale read; a part
 * of {@link StoreContractTest}.
 */
abstract class KeyInUseTest extends StoreContractPart {
  private static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");

  private KeyVersionRecord rotate(UUID id) {
    return store
        .addRotation(
            new RotationRecord(id, UUID.randomUUID(), NOW, "ON_DEMAND"),
            "ENABLED",
            null,
            null,
            1,
            1,
            new byte[40])
        .orElseThrow();
  }

  @Test
  void latest_isTheHighestVersionWithTheKeyAndItsPolicy() {
    UUID id = create();
    KeyVersionRecord first = store.findLatestVersion(id).orElseThrow();
    KeyVersionRecord second = rotate(id);
    AccessStore.of(store).putPolicy(id, "{\"Statement\":[]}", NOW);

    KeyInUse found = store.findKeyInUse(id, null).orElseThrow();

    assertThat(found.key()).isEqualTo(store.findKey(id).orElseThrow());
    assertThat(found.version()).contains(second);
    assertThat(found.version().orElseThrow().versionId()).isNotEqualTo(first.versionId());
    assertThat(found.policy()).contains("{\"Statement\":[]}");
  }

  @Test
  void namedVersion_isThatVersion_andAnUnknownVersionLeavesOnlyTheKey() {
    UUID id = create();
    KeyVersionRecord first = store.findLatestVersion(id).orElseThrow();
    rotate(id);

    assertThat(store.findKeyInUse(id, first.versionId()).orElseThrow().version()).contains(first);
    KeyInUse unknown = store.findKeyInUse(id, UUID.randomUUID()).orElseThrow();
    assertThat(unknown.key().keyId()).isEqualTo(id);
    assertThat(unknown.version()).isEmpty();
    assertThat(unknown.policy()).isEmpty();
  }

  @Test
  void unknownKey_isEmpty_evenForAVersionOfAnotherKey() {
    UUID other = create();
    UUID version = store.findLatestVersion(other).orElseThrow().versionId();

    assertThat(store.findKeyInUse(UUID.randomUUID(), null)).isEmpty();
    assertThat(store.findKeyInUse(UUID.randomUUID(), version)).isEmpty();
    assertThat(store.findKeyInUse(other, null).orElseThrow().version().orElseThrow().versionId())
        .isEqualTo(version);
  }

  @Test
  void keptStatements_seeAChangeMadeByAnotherStoreOnTheSameDatabase_onceTheRecheckBoundPassed()
      throws InterruptedException {
    UUID id = create();
    // Warm every pooled connection's kept statements.
    for (int i = 0; i < 20; i++) {
      assertThat(store.findKeyInUse(id, null).orElseThrow().key().keyState()).isEqualTo("ENABLED");
      assertThat(store.findKey(id).orElseThrow().keyState()).isEqualTo("ENABLED");
    }
    try (KeyStore otherServer = KeyStores.open(url)) {
      assertThat(otherServer.updateKeyState(id, "ENABLED", "DISABLED", null, null)).isTrue();
      AccessStore.of(otherServer).putPolicy(id, "{\"Statement\":[{}]}", NOW);
    }
    // Another process's commit is seen at most the recheck bound after it (KeyInUseCache): a read
    // within it may still be answered from what was kept, which the reads above just checked.
    Thread.sleep(KeyInUseCache.DEFAULT_RECHECK.toMillis() + 1);

    for (int i = 0; i < 8; i++) {
      KeyInUse found = store.findKeyInUse(id, null).orElseThrow();
      assertThat(found.key().keyState()).isEqualTo("DISABLED");
      assertThat(found.policy()).isEqualTo(Optional.of("{\"Statement\":[{}]}"));
      assertThat(store.findKey(id).orElseThrow().keyState()).isEqualTo("DISABLED");
    }
  }
}
