package io.p11kms.server.store;

import java.time.Instant;

/**
 * A key's automatic rotation settings as stored.
 *
 * @param periodDays days between automatic rotations; null while automatic rotation is off
 * @param nextRotationDate when the next automatic rotation is due; null while it is off
 * @param lastOnDemandRotation when the latest on-demand rotation was made; null if never
 */
public record RotationSchedule(
    Integer periodDays, Instant nextRotationDate, Instant lastOnDemandRotation) {
  public boolean enabled() {
    return periodDays != null;
  }
}
