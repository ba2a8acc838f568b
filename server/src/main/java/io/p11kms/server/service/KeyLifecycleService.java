package io.p11kms.server.service;

import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.KeyRecord;
import io.p11kms.server.store.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import java.util.function.Function;

/**
 * EnableKey, DisableKey, ScheduleKeyDeletion, CancelKeyDeletion and UpdateKeyDescription. Each is a
 * compare-and-set on the key's state: when a concurrent change wins, the operation reads the key
 * again and decides anew, so no change is lost and every refusal names the state that refused it.
 */
public final class KeyLifecycleService {
  /** Compare-and-set attempts before giving up under a storm of concurrent changes. */
  static final int MAX_ATTEMPTS = 8;

  private final KeyStore store;
  private final KeyService keys;
  private final Clock clock;

  public KeyLifecycleService(KeyStore store, KeyService keys, Clock clock) {
    this.store = store;
    this.keys = keys;
    this.clock = clock;
  }

  /**
   * What ScheduleKeyDeletion returns.
   *
   * @param deletionDate null while the key waits for its replicas (PendingReplicaDeletion)
   */
  public record ScheduledDeletion(
      UUID keyId,
      String keyArn,
      Instant deletionDate,
      KeyState keyState,
      int pendingWindowInDays) {}

  public void enableKey(String keyId) {
    UUID id = keys.resolveKey(keyId, "KeyId");
    requireNotUpdating(id, "EnableKey");
    change(id, key -> new Change(KeyStates.afterEnable(key), null, null));
  }

  public void disableKey(String keyId) {
    UUID id = keys.resolveKey(keyId, "KeyId");
    requireNotUpdating(id, "DisableKey");
    change(id, key -> new Change(KeyStates.afterDisable(key), null, null));
  }

  /**
   * As AWS KMS: a multi-Region primary handing its role over (Updating) is neither enabled nor
   * disabled until the hand-over completes.
   */
  private void requireNotUpdating(UUID id, String operation) {
    if (KeyArns.isMultiRegion(id)
        && store.multiRegionKeys().find(id).filter(c -> c.updating()).isPresent()) {
      throw new KmsException(
          KmsError.INVALID_STATE,
          operation + ": key '" + KeyArns.keyIdText(id) + "' is Updating (UpdatePrimaryRegion)");
    }
  }

  /**
   * Schedules the key's deletion {@code pendingWindowInDays} (7-30, default 30) days from now. The
   * deletion date is kept at microsecond precision, and what is returned is what is stored.
   *
   * <p>A multi-Region primary with replicas becomes PendingReplicaDeletion instead, with no
   * deletion date: as AWS KMS, its waiting period of {@code pendingWindowInDays} starts when its
   * last replica is deleted, and it is PendingDeletion from then on.
   */
  public ScheduledDeletion scheduleKeyDeletion(String keyId, Integer pendingWindowInDays) {
    UUID id = keys.resolveKey(keyId, "KeyId");
    int days = Requests.pendingWindowDays(pendingWindowInDays);
    if (KeyArns.isMultiRegion(id)) {
      return scheduleMultiRegionKeyDeletion(id, days);
    }
    Change changed =
        change(
            id,
            key ->
                new Change(KeyStates.afterScheduleDeletion(key, false), deletionDate(days), days));
    return new ScheduledDeletion(id, keys.arn(id), changed.deletionDate(), changed.state(), days);
  }

  /**
   * A multi-Region key: whether it waits for replicas (a primary here with a replica, or one being
   * made) is decided in one transaction with the change of its state, so that no ReplicateKey comes
   * in between.
   */
  private ScheduledDeletion scheduleMultiRegionKeyDeletion(UUID id, int days) {
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      KeyRecord key = keys.find(id);
      KeyStates.afterScheduleDeletion(key, false);
      Instant date = deletionDate(days);
      var state =
          store
              .multiRegionKeys()
              .scheduleDeletion(id, key.keyState(), keys.arns().region(), days, date);
      if (state.isPresent()) {
        KeyState scheduled = KeyState.valueOf(state.get());
        return new ScheduledDeletion(
            id,
            keys.arn(id),
            scheduled == KeyState.PENDING_DELETION ? date : null,
            scheduled,
            days);
      }
    }
    throw contended(id);
  }

  private Instant deletionDate(int days) {
    return clock.instant().plus(Duration.ofDays(days)).truncatedTo(ChronoUnit.MICROS);
  }

  /**
   * Cancels a scheduled deletion; the key is then Disabled, as AWS KMS leaves it (PendingImport
   * when it has no key material).
   */
  public String cancelKeyDeletion(String keyId) {
    UUID id = keys.resolveKey(keyId, "KeyId");
    change(
        id,
        key ->
            new Change(
                KeyStates.afterCancelDeletion(
                    key, store.findLatestVersion(key.keyId()).isPresent()),
                null,
                null));
    return keys.arn(id);
  }

  public void updateKeyDescription(String keyId, String description) {
    UUID id = keys.resolveKey(keyId, "KeyId");
    String checked = Requests.requireDescription(description);
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      KeyRecord key = KeyStates.requireNotPendingDeletion(keys.find(id), "UpdateKeyDescription");
      if (store.updateDescription(id, key.keyState(), checked)) {
        return;
      }
    }
    throw contended(id);
  }

  /** A state change: the new state, and the deletion date and window (null unless pending). */
  private record Change(KeyState state, Instant deletionDate, Integer pendingWindowDays) {}

  /** Applies {@code rule} to the key as stored until the compare-and-set holds. */
  private Change change(UUID id, Function<KeyRecord, Change> rule) {
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      KeyRecord key = keys.find(id);
      Change change = rule.apply(key);
      if (store.updateKeyState(
          id,
          key.keyState(),
          change.state().name(),
          change.deletionDate(),
          change.pendingWindowDays())) {
        return change;
      }
    }
    throw contended(id);
  }

  static KmsException contended(UUID id) {
    return new KmsException(
        KmsError.INTERNAL, "Key '" + id + "' is being changed concurrently; retry the request");
  }
}
