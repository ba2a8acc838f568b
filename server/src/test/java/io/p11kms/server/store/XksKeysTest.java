package io.p11kms.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Migration 7: keys exposed to the XKS proxy API, one external key id per key and per proxy. */
abstract class XksKeysTest extends StoreContractPart {
  private static final Instant T0 = Instant.parse("2030-01-01T00:00:00.123456789Z");

  @Test
  void exposedKey_isFoundByItsExternalId_withItsUsages() {
    UUID keyId = create();
    store.xksKeys().expose(new XksKeyRecord("ext-1.a_B", keyId, true, false, T0));

    XksKeyRecord found = store.xksKeys().find("ext-1.a_B").orElseThrow();
    assertThat(found.keyId()).isEqualTo(keyId);
    assertThat(found.usages()).containsExactly("ENCRYPT");
    assertThat(found.createdAt()).isEqualTo(Instant.parse("2030-01-01T00:00:00.123456Z"));
    assertThat(store.xksKeys().find("ext-1.a_b")).as("ids are case-sensitive").isEmpty();
  }

  @Test
  void anExternalIdOrAKey_isExposedOnce() {
    UUID keyId = create();
    store.xksKeys().expose(new XksKeyRecord("one", keyId, true, true, T0));

    assertThatThrownBy(
            () -> store.xksKeys().expose(new XksKeyRecord("one", create(), true, true, T0)))
        .isInstanceOf(KeyAlreadyExistsException.class);
    assertThatThrownBy(
            () -> store.xksKeys().expose(new XksKeyRecord("two", keyId, false, true, T0)))
        .isInstanceOf(KeyAlreadyExistsException.class);
  }

  @Test
  void list_isByExternalId_andRemove_endsTheExposure() {
    store.xksKeys().expose(new XksKeyRecord("b", create(), false, true, T0));
    store.xksKeys().expose(new XksKeyRecord("a", create(), true, true, T0));

    assertThat(store.xksKeys().list())
        .extracting(XksKeyRecord::externalKeyId)
        .containsExactly("a", "b");
    assertThat(store.xksKeys().list().get(0).usages()).containsExactly("ENCRYPT", "DECRYPT");
    assertThat(store.xksKeys().remove("a")).isTrue();
    assertThat(store.xksKeys().remove("a")).isFalse();
    assertThat(store.xksKeys().find("a")).isEmpty();
  }

  @Test
  void record_refusesAnExternalIdOutsideTheSpec_andNoUsage() {
    UUID keyId = UUID.randomUUID();
    assertThatThrownBy(() -> new XksKeyRecord("", keyId, true, true, T0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new XksKeyRecord("a/b", keyId, true, true, T0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new XksKeyRecord("x".repeat(129), keyId, true, true, T0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new XksKeyRecord("ok", keyId, false, false, T0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(new XksKeyRecord("x".repeat(128), keyId, true, true, T0).externalKeyId())
        .hasSize(128);
  }
}
