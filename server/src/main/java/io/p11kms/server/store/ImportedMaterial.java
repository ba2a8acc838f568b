package io.p11kms.server.store;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Objects;
import java.util.UUID;

/**
 * What the store keeps of an EXTERNAL key's imported material beside its EKT: the key version the
 * material is (kept while the material is deleted, so that the same material imported again is the
 * same version and the ciphertexts made under it decrypt), the check value that tells the same
 * material from another, and while the material is there its expiration model and expiry.
 *
 * @param checkValue computed in the token from the material (see the service's {@code
 *     ImportService}); the same material gives the same value
 * @param expirationModel {@code KEY_MATERIAL_EXPIRES} or {@code KEY_MATERIAL_DOES_NOT_EXPIRE}; null
 *     while the key has no material
 * @param validTo when the material expires; null unless it does
 * @param importedAt when the material was last imported
 */
public record ImportedMaterial(
    UUID keyId,
    UUID versionId,
    byte[] checkValue,
    String expirationModel,
    Instant validTo,
    Instant importedAt) {

  public ImportedMaterial {
    KeyRecord.requireNonNull(keyId, "key id");
    KeyRecord.requireNonNull(versionId, "version id");
    KeyRecord.requireNonNull(checkValue, "check value");
    KeyRecord.requireNonNull(importedAt, "import time");
    checkValue = checkValue.clone();
    validTo = validTo == null ? null : validTo.truncatedTo(ChronoUnit.MICROS);
    importedAt = importedAt.truncatedTo(ChronoUnit.MICROS);
  }

  @Override
  public byte[] checkValue() {
    return checkValue.clone();
  }

  /** Whether the key has this material now (it was not deleted, nor expired). */
  public boolean present() {
    return expirationModel != null;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ImportedMaterial m
        && keyId.equals(m.keyId)
        && versionId.equals(m.versionId)
        && Arrays.equals(checkValue, m.checkValue)
        && Objects.equals(expirationModel, m.expirationModel)
        && Objects.equals(validTo, m.validTo)
        && importedAt.equals(m.importedAt);
  }

  @Override
  public int hashCode() {
    return Objects.hash(keyId, versionId, expirationModel, validTo, importedAt)
        + 31 * Arrays.hashCode(checkValue);
  }

  @Override
  public String toString() {
    return "ImportedMaterial[keyId="
        + keyId
        + ", versionId="
        + versionId
        + ", expirationModel="
        + expirationModel
        + ", validTo="
        + validTo
        + "]";
  }
}
