package io.p11kms.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Migration 2: states by compare-and-set, aliases, tags, deletion with a tombstone. */
abstract class JdbcKeyStoreLifecycleTest extends StoreContractPart {
  private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");

  @Test
  void updateKeyState_isCompareAndSet_theLoserWritesNothing() {
    UUID id = create();

    assertThat(store.updateKeyState(id, "ENABLED", "PENDING_DELETION", NOW, 7)).isTrue();
    assertThat(store.updateKeyState(id, "ENABLED", "DISABLED", null, null)).isFalse();

    KeyRecord key = store.findKey(id).orElseThrow();
    assertThat(key.keyState()).isEqualTo("PENDING_DELETION");
    assertThat(key.deletionDate()).isEqualTo(NOW);
    assertThat(key.pendingWindowDays()).isEqualTo(7);
  }

  @Test
  void concurrentStateChanges_fromOneState_exactlyOneWins() throws Exception {
    UUID id = create();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        String target = i % 2 == 0 ? "DISABLED" : "PENDING_DELETION";
        Callable<Boolean> change = () -> store.updateKeyState(id, "ENABLED", target, null, null);
        results.add(pool.submit(change));
      }
      int winners = 0;
      for (Future<Boolean> r : results) {
        winners += r.get() ? 1 : 0;
      }
      assertThat(winners).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aliasNames_areUniqueByConstraint_evenUnderConcurrentCreates() throws Exception {
    UUID first = create();
    UUID second = create();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<String>> results = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        UUID target = i % 2 == 0 ? first : second;
        results.add(
            pool.submit(
                () -> {
                  try {
                    store.createAlias(new AliasRecord("alias/race", target, NOW, NOW), "ENABLED");
                    return "created";
                  } catch (AliasAlreadyExistsException e) {
                    return "exists";
                  }
                }));
      }
      int created = 0;
      for (Future<String> r : results) {
        created += r.get().equals("created") ? 1 : 0;
      }
      assertThat(created).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void createAlias_keyNotInExpectedState_writesNothing() {
    UUID id = create();
    store.updateKeyState(id, "ENABLED", "PENDING_DELETION", NOW, 7);

    assertThat(store.createAlias(new AliasRecord("alias/late", id, NOW, NOW), "ENABLED")).isFalse();
    assertThat(store.findAlias("alias/late")).isEmpty();
  }

  @Test
  void tagKey_overLimit_rollsBackTheWholeBatch() {
    UUID id = create();
    store.tagKey(id, "ENABLED", Map.of("a", "1", "b", "2"), 3);

    assertThatThrownBy(
            () -> store.tagKey(id, "ENABLED", Map.of("a", "changed", "c", "3", "d", "4"), 3))
        .isInstanceOf(TagLimitExceededException.class);

    assertThat(store.listTags(id, 50, Optional.empty()).items())
        .containsExactly(new TagRecord("a", "1"), new TagRecord("b", "2"));
  }

  @Test
  void deleteKey_onlyWhenDue_removesEverything_andLeavesATombstone() {
    UUID id = create();
    UUID other = create();
    store.createAlias(new AliasRecord("alias/gone", id, NOW, NOW), "ENABLED");
    store.createAlias(new AliasRecord("alias/kept", other, NOW, NOW), "ENABLED");
    store.tagKey(id, "ENABLED", Map.of("a", "1"), 50);
    Instant due = NOW.plusSeconds(7 * 86_400);
    store.updateKeyState(id, "ENABLED", "PENDING_DELETION", due, 7);

    assertThat(store.findKeysDueForDeletion(due.minusNanos(1000), 10)).isEmpty();
    assertThat(store.deleteKey(id, due.minusNanos(1000))).isFalse();
    assertThat(store.findKeysDueForDeletion(due, 10)).containsExactly(id);
    assertThat(store.deleteKey(id, due)).isTrue();

    assertThat(store.findKey(id)).isEmpty();
    assertThat(store.findLatestVersion(id)).isEmpty();
    assertThat(store.findAlias("alias/gone")).isEmpty();
    assertThat(store.listTags(id, 50, Optional.empty()).items()).isEmpty();
    assertThat(store.findDeletedKey(id)).contains(due);
    assertThat(store.findDeletedKey(other)).isEmpty();
    assertThat(store.findAlias("alias/kept")).isPresent();
    assertThat(store.deleteKey(id, due)).isFalse();
  }

  @Test
  void deleteKey_afterCancel_isRefused() {
    UUID id = create();
    store.updateKeyState(id, "ENABLED", "PENDING_DELETION", NOW, 7);
    store.updateKeyState(id, "PENDING_DELETION", "DISABLED", null, null);

    assertThat(store.deleteKey(id, NOW.plusSeconds(86_400 * 31L))).isFalse();
    assertThat(store.findKey(id)).isPresent();
    assertThat(store.findDeletedKey(id)).isEmpty();
  }

  @Test
  void listAliases_malformedMarker_isIllegalArgument() {
    assertThatThrownBy(() -> store.listAliases(Optional.empty(), 10, Optional.of("bogus")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> store.listTags(create(), 10, Optional.of("bogus")))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
