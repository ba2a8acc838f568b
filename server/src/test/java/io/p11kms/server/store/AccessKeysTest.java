package io.p11kms.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Migration 8: access keys stored and read back as written, listed by account and principal, at
 * most two active per principal and scope, also when two stores on one database race for the last
 * slot.
 */
abstract class AccessKeysTest extends StoreContractPart {
  private static final String ACCOUNT = "111122223333";
  private static final String ALICE = "arn:aws:iam::111122223333:user/alice";
  private static final Instant T0 = Instant.parse("2030-01-01T00:00:00.123456789Z");
  private int next;

  private AccessKeys keys() {
    return AccessKeys.of(store);
  }

  private AccessKeyRecord key(String principal, AccessKeyScope scope, boolean active) {
    next++;
    String id = String.format("AKIATESTKEY%09d", next).replace('0', 'A').replace('1', 'B');
    id = id.replace('8', 'C').replace('9', 'D');
    return new AccessKeyRecord(
        id,
        ACCOUNT,
        principal,
        scope,
        active,
        T0.plusSeconds(next),
        1,
        DomainKeyKind.HMAC,
        0x2109,
        new byte[] {1, 2, 3, (byte) next, 5, 6, 7, 8});
  }

  @Test
  void created_isReadBackAsWritten() {
    AccessKeyRecord key = key(ALICE, AccessKeyScope.KMS_API, true);

    assertThat(keys().create(key)).isTrue();

    assertThat(keys().find(key.accessKeyId())).contains(key);
    assertThat(keys().find("AKIANOSUCHKEY2345678")).isEmpty();
    assertThat(key.toString()).doesNotContain("[1, 2, 3");
  }

  @Test
  void sameId_isRefused() {
    AccessKeyRecord key = key(ALICE, AccessKeyScope.KMS_API, true);
    keys().create(key);

    assertThatThrownBy(() -> keys().create(key.withActive(false)))
        .isInstanceOf(KeyAlreadyExistsException.class);
  }

  @Test
  void thirdActiveKey_isRefused_butAnInactiveOneOrAnotherScopeOrPrincipalIsStored() {
    assertThat(keys().create(key(ALICE, AccessKeyScope.KMS_API, true))).isTrue();
    assertThat(keys().create(key(ALICE, AccessKeyScope.KMS_API, true))).isTrue();

    AccessKeyRecord third = key(ALICE, AccessKeyScope.KMS_API, true);
    assertThat(keys().create(third)).isFalse();
    assertThat(keys().find(third.accessKeyId())).isEmpty();

    assertThat(keys().create(key(ALICE, AccessKeyScope.KMS_API, false))).isTrue();
    assertThat(keys().create(key(ALICE, AccessKeyScope.XKS, true))).isTrue();
    assertThat(
            keys().create(key("arn:aws:iam::111122223333:user/bob", AccessKeyScope.KMS_API, true)))
        .isTrue();
  }

  @Test
  void rotation_disableOneThenTheNewOneActivates() {
    AccessKeyRecord old = key(ALICE, AccessKeyScope.KMS_API, true);
    AccessKeyRecord current = key(ALICE, AccessKeyScope.KMS_API, true);
    AccessKeyRecord fresh = key(ALICE, AccessKeyScope.KMS_API, false);
    keys().create(old);
    keys().create(current);
    keys().create(fresh);

    assertThat(keys().setActive(fresh.accessKeyId(), true)).isFalse();
    assertThat(keys().setActive(old.accessKeyId(), false)).isTrue();
    assertThat(keys().setActive(fresh.accessKeyId(), true)).isTrue();

    assertThat(keys().find(old.accessKeyId()).orElseThrow().active()).isFalse();
    assertThat(keys().find(fresh.accessKeyId()).orElseThrow().active()).isTrue();
    assertThat(keys().setActive(old.accessKeyId(), true)).isFalse();
    assertThat(keys().setActive("AKIANOSUCHKEY2345678", false)).isFalse();
  }

  @Test
  void deleted_isGone_andFreesItsSlot() {
    AccessKeyRecord a = key(ALICE, AccessKeyScope.KMS_API, true);
    AccessKeyRecord b = key(ALICE, AccessKeyScope.KMS_API, true);
    keys().create(a);
    keys().create(b);

    assertThat(keys().delete(a.accessKeyId())).isTrue();
    assertThat(keys().delete(a.accessKeyId())).isFalse();

    assertThat(keys().find(a.accessKeyId())).isEmpty();
    assertThat(keys().create(key(ALICE, AccessKeyScope.KMS_API, true))).isTrue();
  }

  @Test
  void list_byAccountAndPrincipal_inCreationOrder() {
    AccessKeyRecord a = key(ALICE, AccessKeyScope.KMS_API, true);
    AccessKeyRecord b = key("arn:aws:iam::111122223333:user/bob", AccessKeyScope.KMS_API, true);
    AccessKeyRecord other =
        new AccessKeyRecord(
            "AKIAOTHERACCOUNT2345",
            "444455556666",
            ALICE,
            AccessKeyScope.KMS_API,
            true,
            T0,
            1,
            DomainKeyKind.HMAC,
            0x2109,
            new byte[] {9});
    keys().create(b);
    keys().create(a);
    keys().create(other);

    assertThat(keys().list(Optional.empty(), Optional.empty())).containsExactly(other, a, b);
    assertThat(keys().list(Optional.of(ACCOUNT), Optional.empty())).containsExactly(a, b);
    assertThat(keys().list(Optional.of(ACCOUNT), Optional.of(ALICE))).containsExactly(a);
  }

  @Test
  void replaceEkt_onlyFromTheExpectedGeneration() {
    AccessKeyRecord key = key(ALICE, AccessKeyScope.KMS_API, true);
    keys().create(key);
    AccessKeyRecord rewrapped =
        new AccessKeyRecord(
            key.accessKeyId(),
            ACCOUNT,
            ALICE,
            AccessKeyScope.KMS_API,
            true,
            key.createdAt(),
            2,
            DomainKeyKind.HMAC,
            0x2109,
            new byte[] {42});

    assertThat(keys().replaceEkt(key.accessKeyId(), 2, rewrapped)).isFalse();
    assertThat(keys().replaceEkt(key.accessKeyId(), 1, rewrapped)).isTrue();

    assertThat(keys().find(key.accessKeyId())).contains(rewrapped);
  }

  @Test
  void twoStoresRacingForTheLastSlot_oneWins() throws Exception {
    keys().create(key(ALICE, AccessKeyScope.KMS_API, true));
    KeyStore second = KeyStores.open(url);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      CyclicBarrier start = new CyclicBarrier(2);
      List<Callable<Boolean>> racers = new ArrayList<>();
      for (KeyStore s : List.of(store, second)) {
        AccessKeyRecord candidate = key(ALICE, AccessKeyScope.KMS_API, true);
        racers.add(
            () -> {
              start.await();
              return AccessKeys.of(s).create(candidate);
            });
      }
      int won = 0;
      for (Future<Boolean> f : pool.invokeAll(racers)) {
        won += f.get() ? 1 : 0;
      }

      assertThat(won).isEqualTo(1);
      assertThat(keys().list(Optional.of(ACCOUNT), Optional.of(ALICE)))
          .filteredOn(AccessKeyRecord::active)
          .hasSize(2);
    } finally {
      pool.shutdownNow();
      second.close();
    }
  }
}
