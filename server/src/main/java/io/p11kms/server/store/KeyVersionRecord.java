package io.p11kms.server.store;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Objects;
import java.util.UUID;

/**
 * One version of a key's backing material: the EKT (the backing key wrapped under domain key {@code
 * domainKeyGeneration} with the mechanism {@code wrapMechanismCode}). The EKT is copied in and out;
 * {@link #toString()} shows its length only.
 *
 * @param versionNumber 1 for the key's first version, then 2, 3, ...
 */
public record KeyVersionRecord(
    UUID keyId,
    UUID versionId,
    int versionNumber,
    Instant createdAt,
    int domainKeyGeneration,
    int wrapMechanismCode,
    byte[] ekt) {

  public KeyVersionRecord {
    KeyRecord.requireNonNull(keyId, "key id");
    KeyRecord.requireNonNull(versionId, "version id");
    KeyRecord.requireNonNull(createdAt, "creation time");
    KeyRecord.requireNonNull(ekt, "EKT");
    if (versionNumber < 1) {
      throw new IllegalArgumentException("version number must be at least 1, was " + versionNumber);
    }
    if (ekt.length == 0) {
      throw new IllegalArgumentException("EKT must not be empty");
    }
    createdAt = createdAt.truncatedTo(ChronoUnit.MICROS);
    ekt = ekt.clone();
  }

  @Override
  public byte[] ekt() {
    return ekt.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KeyVersionRecord other
        && keyId.equals(other.keyId)
        && versionId.equals(other.versionId)
        && versionNumber == other.versionNumber
        && createdAt.equals(other.createdAt)
        && domainKeyGeneration == other.domainKeyGeneration
        && wrapMechanismCode == other.wrapMechanismCode
        && Arrays.equals(ekt, other.ekt);
  }

  @Override
  public int hashCode() {
    return 31
            * Objects.hash(
                keyId, versionId, versionNumber, createdAt, domainKeyGeneration, wrapMechanismCode)
        + Arrays.hashCode(ekt);
  }

  @Override
  public String toString() {
    return "KeyVersionRecord[keyId="
        + keyId
        + ", versionId="
        + versionId
        + ", versionNumber="
        + versionNumber
        + ", createdAt="
        + createdAt
        + ", domainKeyGeneration="
        + domainKeyGeneration
        + ", wrapMechanismCode="
        + wrapMechanismCode
        + ", ektLength="
        + ekt.length
        + "]";
  }
}
