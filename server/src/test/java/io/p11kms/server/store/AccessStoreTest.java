package io.p11kms.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Migration 4: key policies and grants, through the {@link AccessStore} of a key store. */
abstract class AccessStoreTest extends StoreContractPart {
  private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");

  private AccessStore access;
  private UUID keyId;

  @BeforeEach
  void createKeyAndAccess() {
    access = store.access();
    keyId = create();
  }

  private static GrantRecord grant(String id, UUID keyId, String retiring, Instant createdAt) {
    return new GrantRecord(
        id,
        keyId,
        "name-" + id,
        "spiffe://example/grantee",
        retiring,
        List.of("Encrypt", "Decrypt"),
        Map.of("purpose", "backup"),
        Map.of("team", "payments"),
        "token-" + id,
        createdAt);
  }

  @Test
  void policy_isAbsentUntilPut_andAPutReplacesIt() {
    assertThat(access.findPolicy(keyId)).isEmpty();
    access.putPolicy(keyId, "{\"Statement\":[]}", NOW);
    access.putPolicy(keyId, "{\"Statement\":[{}]}", NOW.plusSeconds(1));
    assertThat(access.findPolicy(keyId)).contains("{\"Statement\":[{}]}");
    assertThat(AccessStore.of(store).findPolicy(keyId)).contains("{\"Statement\":[{}]}");
  }

  @Test
  void grant_roundTrips_andIsFoundByIdTokenKeyAndRetiringPrincipal() {
    GrantRecord g = grant("g1", keyId, "spiffe://example/retirer", NOW);
    access.createGrant(g);

    assertThat(access.findGrant("g1")).contains(g);
    assertThat(access.findGrantByToken("token-g1")).contains(g);
    assertThat(access.grantsOfKey(keyId)).containsExactly(g);
    assertThat(access.grantsRetirableBy("spiffe://example/retirer")).containsExactly(g);
    assertThat(access.grantsRetirableBy("spiffe://example/other")).isEmpty();
    assertThat(access.findGrant("nope")).isEmpty();
  }

  @Test
  void grantWithoutOperationsOrConstraints_roundTripsEmpty() {
    GrantRecord g =
        new GrantRecord("g0", keyId, null, "p", null, List.of(), Map.of(), Map.of(), "t0", NOW);
    access.createGrant(g);
    assertThat(access.findGrant("g0")).contains(g);
  }

  @Test
  void grantsOfKey_areOldestFirst_andOnlyThatKeys() {
    UUID other = create();
    access.createGrant(grant("b", keyId, null, NOW.plusSeconds(2)));
    access.createGrant(grant("a", keyId, null, NOW.plusSeconds(1)));
    access.createGrant(grant("c", other, null, NOW));

    assertThat(access.grantsOfKey(keyId))
        .extracting(GrantRecord::grantId)
        .containsExactly("a", "b");
  }

  @Test
  void grantToken_isUnique() {
    access.createGrant(grant("g1", keyId, null, NOW));
    GrantRecord sameToken =
        new GrantRecord(
            "g2", keyId, null, "p", null, List.of("Encrypt"), Map.of(), Map.of(), "token-g1", NOW);
    assertThatThrownBy(() -> access.createGrant(sameToken))
        .isInstanceOf(KeyAlreadyExistsException.class);
    assertThat(access.findGrant("g2")).isEmpty();
  }

  @Test
  void deleteGrant_saysWhetherItExisted() {
    access.createGrant(grant("g1", keyId, null, NOW));
    assertThat(access.deleteGrant("g1")).isTrue();
    assertThat(access.deleteGrant("g1")).isFalse();
    assertThat(access.findGrantByToken("token-g1")).isEmpty();
  }
}
