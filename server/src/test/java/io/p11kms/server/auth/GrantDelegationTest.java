package io.p11kms.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.server.store.GrantRecord;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class GrantDelegationTest {
  private static final UUID KEY = UUID.randomUUID();

  @Test
  void unconstrainedParent_coversSubsetOfOperations_withAnyConstraint() {
    GrantRecord parent = grant(List.of("Encrypt", "Decrypt", "CreateGrant"), Map.of(), Map.of());
    assertThat(GrantDelegation.covers(parent, grant(List.of("Encrypt"), Map.of(), Map.of())))
        .isTrue();
    assertThat(
            GrantDelegation.covers(parent, grant(List.of("Decrypt"), Map.of("a", "1"), Map.of())))
        .isTrue();
    assertThat(GrantDelegation.covers(parent, grant(List.of("Sign"), Map.of(), Map.of())))
        .isFalse();
  }

  @Test
  void parentWithoutCreateGrant_coversNothing() {
    GrantRecord parent = grant(List.of("Encrypt", "Decrypt"), Map.of(), Map.of());
    assertThat(GrantDelegation.covers(parent, grant(List.of("Encrypt"), Map.of(), Map.of())))
        .isFalse();
  }

  @Test
  void subsetParent_needsChildConstraintHoldingItsPairs() {
    GrantRecord parent = grant(List.of("Encrypt", "CreateGrant"), Map.of(), Map.of("t", "1"));
    List<String> ops = List.of("Encrypt");
    assertThat(GrantDelegation.covers(parent, grant(ops, Map.of(), Map.of()))).isFalse();
    assertThat(GrantDelegation.covers(parent, grant(ops, Map.of(), Map.of("t", "2")))).isFalse();
    assertThat(GrantDelegation.covers(parent, grant(ops, Map.of(), Map.of("x", "1")))).isFalse();
    assertThat(GrantDelegation.covers(parent, grant(ops, Map.of(), Map.of("t", "1")))).isTrue();
    assertThat(GrantDelegation.covers(parent, grant(ops, Map.of(), Map.of("t", "1", "a", "b"))))
        .isTrue();
    assertThat(GrantDelegation.covers(parent, grant(ops, Map.of("t", "1", "a", "b"), Map.of())))
        .isTrue();
    assertThat(GrantDelegation.covers(parent, grant(ops, Map.of("a", "b"), Map.of()))).isFalse();
  }

  @Test
  void equalsParent_needsTheSameEqualsConstraint() {
    GrantRecord parent = grant(List.of("Encrypt", "CreateGrant"), Map.of("t", "1"), Map.of());
    List<String> ops = List.of("Encrypt");
    assertThat(GrantDelegation.covers(parent, grant(ops, Map.of("t", "1"), Map.of()))).isTrue();
    assertThat(GrantDelegation.covers(parent, grant(ops, Map.of(), Map.of("t", "1")))).isFalse();
    assertThat(GrantDelegation.covers(parent, grant(ops, Map.of("t", "1", "a", "b"), Map.of())))
        .isFalse();
    assertThat(GrantDelegation.covers(parent, grant(ops, Map.of(), Map.of()))).isFalse();
  }

  private static GrantRecord grant(
      List<String> operations, Map<String, String> equals, Map<String, String> subset) {
    return new GrantRecord(
        "g", KEY, null, "p", null, operations, equals, subset, "token", Instant.EPOCH);
  }
}
