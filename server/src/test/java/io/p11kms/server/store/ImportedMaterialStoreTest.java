package io.p11kms.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Imported key material in the store: a key created without material, the import (state, material
 * record and EKT in one transaction, compare-and-set on the state), its deletion that keeps the
 * version id and check value, the expiry query, and the key's deletion that takes it all.
 */
abstract class ImportedMaterialStoreTest extends StoreContractPart {
  private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
  private static final byte[] CHECK = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

  private UUID createPendingImport() {
    UUID id = UUID.randomUUID();
    KeyRecord k = key(id);
    store.createKeyAwaitingMaterial(
        new KeyRecord(
            id,
            k.creationDate(),
            k.description(),
            k.keyUsage(),
            k.keySpec(),
            "PENDING_IMPORT",
            "EXTERNAL",
            null),
        Map.of("team", "a"));
    return id;
  }

  @Test
  void aKeyAwaitingMaterial_hasNoVersionAndNoMaterialRecord() {
    UUID id = createPendingImport();
    assertThat(store.findKey(id).orElseThrow().keyState()).isEqualTo("PENDING_IMPORT");
    assertThat(store.findKey(id).orElseThrow().origin()).isEqualTo("EXTERNAL");
    assertThat(store.findLatestVersion(id)).isEmpty();
    assertThat(store.findImportedMaterial(id)).isEmpty();
    assertThat(store.findKeyInUse(id, null).orElseThrow().version()).isEmpty();
  }

  @Test
  void import_storesStateMaterialAndVersionTogether_onlyFromTheExpectedState() {
    UUID id = createPendingImport();
    KeyVersionRecord version = version(id, 1);
    ImportedMaterial material = material(id, version.versionId(), NOW.plusSeconds(60));
    assertThat(store.storeImportedMaterial(material, "ENABLED", "ENABLED", version)).isFalse();
    assertThat(store.findImportedMaterial(id)).isEmpty();
    assertThat(store.findLatestVersion(id)).isEmpty();

    assertThat(store.storeImportedMaterial(material, "PENDING_IMPORT", "ENABLED", version))
        .isTrue();
    assertThat(store.findKey(id).orElseThrow().keyState()).isEqualTo("ENABLED");
    assertThat(store.findImportedMaterial(id)).contains(material);
    assertThat(store.findLatestVersion(id)).contains(version);

    // Imported again with another expiry: the record changes, the version stays.
    ImportedMaterial again = material(id, version.versionId(), null);
    assertThat(store.storeImportedMaterial(again, "ENABLED", "ENABLED", null)).isTrue();
    assertThat(store.findImportedMaterial(id)).contains(again);
    assertThat(store.findLatestVersion(id)).contains(version);
  }

  @Test
  void deletion_dropsTheEkt_keepsVersionIdAndCheckValue_andHonoursTheExpectedExpiry() {
    UUID id = createPendingImport();
    KeyVersionRecord version = version(id, 1);
    Instant validTo = NOW.plusSeconds(60);
    store.storeImportedMaterial(
        material(id, version.versionId(), validTo), "PENDING_IMPORT", "ENABLED", version);
    assertThat(store.findKeysWithMaterialExpiring(NOW, 10)).isEmpty();
    assertThat(store.findKeysWithMaterialExpiring(validTo, 10)).containsExactly(id);

    assertThat(store.deleteImportedMaterial(id, "ENABLED", "PENDING_IMPORT", NOW)).isFalse();
    assertThat(store.deleteImportedMaterial(id, "DISABLED", "PENDING_IMPORT", null)).isFalse();
    assertThat(store.findLatestVersion(id)).isPresent();

    assertThat(store.deleteImportedMaterial(id, "ENABLED", "PENDING_IMPORT", validTo)).isTrue();
    assertThat(store.findKey(id).orElseThrow().keyState()).isEqualTo("PENDING_IMPORT");
    assertThat(store.findLatestVersion(id)).isEmpty();
    ImportedMaterial kept = store.findImportedMaterial(id).orElseThrow();
    assertThat(kept.present()).isFalse();
    assertThat(kept.validTo()).isNull();
    assertThat(kept.versionId()).isEqualTo(version.versionId());
    assertThat(kept.checkValue()).isEqualTo(CHECK);
    assertThat(store.findKeysWithMaterialExpiring(validTo, 10)).isEmpty();
  }

  @Test
  void deletingTheKey_takesItsMaterialRecord() {
    UUID id = createPendingImport();
    KeyVersionRecord version = version(id, 1);
    store.storeImportedMaterial(
        material(id, version.versionId(), null), "PENDING_IMPORT", "ENABLED", version);
    assertThat(store.updateKeyState(id, "ENABLED", "PENDING_DELETION", NOW, 7)).isTrue();
    assertThat(store.deleteKey(id, NOW)).isTrue();
    assertThat(store.findImportedMaterial(id)).isEmpty();
  }

  private static ImportedMaterial material(UUID keyId, UUID versionId, Instant validTo) {
    return new ImportedMaterial(
        keyId,
        versionId,
        CHECK,
        validTo == null ? "KEY_MATERIAL_DOES_NOT_EXPIRE" : "KEY_MATERIAL_EXPIRES",
        validTo,
        NOW);
  }
}
