package io.p11kms.server.store;

import java.time.Instant;
import java.util.UUID;

/**
 * One rotation of a key: the version it made, when, and how.
 *
 * @param rotationType {@code AUTOMATIC} or {@code ON_DEMAND}
 */
public record RotationRecord(
    UUID keyId, UUID versionId, Instant rotationDate, String rotationType) {
  public RotationRecord {
    KeyRecord.requireNonNull(keyId, "key id");
    KeyRecord.requireNonNull(versionId, "version id");
    KeyRecord.requireNonNull(rotationDate, "rotation date");
    KeyRecord.requireNonNull(rotationType, "rotation type");
  }
}
