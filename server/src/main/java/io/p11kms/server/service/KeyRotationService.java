package io.p11kms.server.service;

import io.p11kms.hsm.Hsm;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.KeyRecord;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyVersionRecord;
import io.p11kms.server.store.Page;
import io.p11kms.server.store.RotationRecord;
import io.p11kms.server.store.RotationSchedule;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rotation of a key's HSM backing key (HBK): EnableKeyRotation, DisableKeyRotation,
 * GetKeyRotationStatus, RotateKeyOnDemand, ListKeyRotations, and the automatic rotations a
 * scheduler runs ({@link #runDueRotations()}).
 *
 * <p>A rotation generates a new HBK in the token and stores its EKT as the key's next version, with
 * a history row, in one transaction. Encrypt uses the newest version; a ciphertext names its
 * version, so every older one still decrypts. An automatic rotation is a compare-and-set on the
 * key's next rotation date: of two servers that find the same key due, one stores its rotation and
 * the other stores nothing (its new HBK never left the token except wrapped, and is dropped).
 *
 * <p>States, as AWS KMS: changes need an Enabled key (DisabledException when Disabled,
 * KMSInvalidStateException when pending deletion); the status and the history can be read in any
 * state, and a key pending deletion reports rotation off. A disabled key is not rotated; once
 * enabled again, a rotation that fell due meanwhile runs at the next scheduler pass.
 */
public final class KeyRotationService {
  private static final Logger log = LoggerFactory.getLogger(KeyRotationService.class);

  public static final int MIN_PERIOD_DAYS = 90;
  public static final int MAX_PERIOD_DAYS = 2560;
  public static final int DEFAULT_PERIOD_DAYS = 365;
  static final int DEFAULT_LIST_LIMIT = 100;
  static final int BATCH = 100;

  /** AUTOMATIC or ON_DEMAND, as stored and as ListKeyRotations reports. */
  public enum RotationType {
    AUTOMATIC,
    ON_DEMAND
  }

  /** What GetKeyRotationStatus returns; the optionals are empty while rotation is off. */
  public record Status(
      String keyArn,
      boolean enabled,
      Optional<Integer> periodDays,
      Optional<Instant> nextRotationDate,
      Optional<Instant> onDemandRotationStartDate) {}

  /** One ListKeyRotations entry. */
  public record Rotation(
      UUID keyId, UUID keyMaterialId, Instant rotationDate, RotationType rotationType) {}

  /** One page of ListKeyRotations. */
  public record Listing(List<Rotation> rotations, Optional<String> nextMarker) {
    public boolean truncated() {
      return nextMarker.isPresent();
    }
  }

  private final Hsm hsm;
  private final KeyStore store;
  private final KeyService keys;
  private final Clock clock;
  private final AtomicLong rotationsPerformed = new AtomicLong();

  private final NewVersionGate gate;

  public KeyRotationService(Hsm hsm, KeyStore store, KeyService keys, Clock clock) {
    this(hsm, store, keys, clock, NewVersionGate.NONE);
  }

  /** As above; each new version passes {@code gate} before it is stored. */
  public KeyRotationService(
      Hsm hsm, KeyStore store, KeyService keys, Clock clock, NewVersionGate gate) {
    this.hsm = hsm;
    this.store = store;
    this.keys = keys;
    this.clock = clock;
    this.gate = gate;
  }

  /**
   * Turns on automatic rotation every {@code periodDays} (90-2560, default 365). Turning it on sets
   * the next rotation {@code periodDays} from now; changing the period of a key that already
   * rotates sets it {@code periodDays} after the key's newest version (due at once if that is
   * past).
   */
  public void enableKeyRotation(String keyId, Integer periodDays) {
    UUID id = keys.resolveKey(keyId, "KeyId");
    int days = periodDays(periodDays);
    for (int attempt = 0; attempt < KeyLifecycleService.MAX_ATTEMPTS; attempt++) {
      KeyRecord key =
          requireEnabled(
              requireRotatable(
                  requireNotReplica(keys.find(id), "EnableKeyRotation"), "EnableKeyRotation"),
              "EnableKeyRotation");
      RotationSchedule schedule = schedule(id);
      Instant base =
          schedule.enabled()
              ? store.findLatestVersion(id).map(KeyVersionRecord::createdAt).orElse(now())
              : now();
      Instant next = base.plus(Duration.ofDays(days)).truncatedTo(ChronoUnit.MICROS);
      if (store.setRotationSchedule(id, key.keyState(), days, next)) {
        return;
      }
    }
    throw KeyLifecycleService.contended(id);
  }

  public void disableKeyRotation(String keyId) {
    UUID id = keys.resolveKey(keyId, "KeyId");
    for (int attempt = 0; attempt < KeyLifecycleService.MAX_ATTEMPTS; attempt++) {
      KeyRecord key =
          requireEnabled(
              requireRotatable(keys.find(id), "DisableKeyRotation"), "DisableKeyRotation");
      if (store.setRotationSchedule(id, key.keyState(), null, null)) {
        return;
      }
    }
    throw KeyLifecycleService.contended(id);
  }

  /** Any key state; a key pending deletion reports rotation off (its schedule is kept). */
  public Status getKeyRotationStatus(String keyId) {
    UUID id = keys.resolveKey(keyId, "KeyId");
    KeyRecord key = keys.find(id);
    RotationSchedule schedule = schedule(id);
    boolean on = schedule.enabled() && !KeyStates.pendingDeletion(key);
    return new Status(
        keys.arn(id),
        on,
        on ? Optional.of(schedule.periodDays()) : Optional.empty(),
        on ? Optional.of(schedule.nextRotationDate()) : Optional.empty(),
        Optional.ofNullable(schedule.lastOnDemandRotation()));
  }

  /** Rotates now; the automatic schedule stays as it is. Returns the key's ARN. */
  public String rotateKeyOnDemand(String keyId) {
    UUID id = keys.resolveKey(keyId, "KeyId");
    for (int attempt = 0; attempt < KeyLifecycleService.MAX_ATTEMPTS; attempt++) {
      KeyRecord key =
          requireEnabled(
              requireRotatable(
                  requireNotReplica(keys.find(id), "RotateKeyOnDemand"), "RotateKeyOnDemand"),
              "RotateKeyOnDemand");
      if (rotate(id, key.keyState(), RotationType.ON_DEMAND, null, null).isPresent()) {
        return keys.arn(id);
      }
    }
    throw KeyLifecycleService.contended(id);
  }

  /** Any key state. {@code limit} 1-1000, default 100. */
  public Listing listKeyRotations(String keyId, Integer limit, String marker) {
    UUID id = keys.resolveKey(keyId, "KeyId");
    int pageSize = limit == null ? DEFAULT_LIST_LIMIT : Requests.listLimit(limit);
    keys.find(id);
    Page<RotationRecord> page;
    try {
      page =
          store.listRotations(id, pageSize, Optional.ofNullable(marker).filter(m -> !m.isEmpty()));
    } catch (IllegalArgumentException e) {
      throw new KmsException(KmsError.INVALID_MARKER, "Marker is not valid");
    }
    return new Listing(
        page.items().stream()
            .map(
                r ->
                    new Rotation(
                        r.keyId(),
                        r.versionId(),
                        r.rotationDate(),
                        RotationType.valueOf(r.rotationType())))
            .toList(),
        page.nextMarker());
  }

  /**
   * Rotates every Enabled key whose next rotation date is at or before now, by the clock, once per
   * due date; the next date becomes now plus the period. A scheduler calls this; tests call it with
   * a clock of their own.
   *
   * @return how many keys were rotated
   */
  public int runDueRotations() {
    Instant now = now();
    int rotated = 0;
    while (true) {
      List<UUID> due = store.findKeysDueForRotation(now, BATCH);
      int rotatedInBatch = 0;
      for (UUID id : due) {
        try {
          if (rotateIfDue(id, now)) {
            rotatedInBatch++;
          }
        } catch (KmsException e) {
          // One key's failure must not stop the others; it is due again at the next pass.
          log.warn("automatic rotation of key {} failed: {}", id, e.getMessage());
        }
      }
      rotated += rotatedInBatch;
      if (due.size() < BATCH || rotatedInBatch == 0) {
        return rotated;
      }
    }
  }

  private boolean rotateIfDue(UUID id, Instant now) {
    Optional<KeyRecord> key = store.findKey(id);
    if (key.isEmpty() || KeyStates.state(key.get()) != KeyState.ENABLED) {
      return false;
    }
    RotationSchedule schedule = schedule(id);
    Instant due = schedule.nextRotationDate();
    if (!schedule.enabled() || due == null || due.isAfter(now)) {
      return false;
    }
    Instant next = now.plus(Duration.ofDays(schedule.periodDays())).truncatedTo(ChronoUnit.MICROS);
    boolean done =
        rotate(id, KeyState.ENABLED.name(), RotationType.AUTOMATIC, due, next).isPresent();
    if (done) {
      log.info("key {} rotated automatically; next rotation {}", id, next);
    }
    return done;
  }

  /** Rotations this server has stored since it started, automatic and on demand: for metrics. */
  public long rotationsPerformed() {
    return rotationsPerformed.get();
  }

  private Optional<KeyVersionRecord> rotate(
      UUID id, String expectedState, RotationType type, Instant expectedNext, Instant newNext) {
    WrappedKey backingKey = TokenCalls.call("RotateKey", hsm::generateBackingKey);
    RotationRecord rotation = new RotationRecord(id, UUID.randomUUID(), now(), type.name());
    gate.beforeStoring(
        id,
        rotation.versionId(),
        store.findLatestVersion(id).map(KeyVersionRecord::versionNumber).orElse(0) + 1,
        rotation.rotationDate(),
        backingKey);
    Optional<KeyVersionRecord> stored =
        store.addRotation(
            rotation,
            expectedState,
            expectedNext,
            newNext,
            backingKey.domainKeyGeneration(),
            backingKey.wrapMechanism().code(),
            backingKey.ekt());
    stored.ifPresent(v -> rotationsPerformed.incrementAndGet());
    return stored;
  }

  private RotationSchedule schedule(UUID id) {
    return store
        .findRotationSchedule(id)
        .orElseThrow(() -> KmsException.notFound("Key '" + id + "' does not exist"));
  }

  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MICROS);
  }

  static int periodDays(Integer days) {
    if (days == null) {
      return DEFAULT_PERIOD_DAYS;
    }
    if (days < MIN_PERIOD_DAYS || days > MAX_PERIOD_DAYS) {
      throw KmsException.validation(
          "RotationPeriodInDays must be "
              + MIN_PERIOD_DAYS
              + "-"
              + MAX_PERIOD_DAYS
              + ", was "
              + days);
    }
    return days;
  }

  /** Rotation changes need an Enabled key: DisabledException, or KMSInvalidState when pending. */
  /**
   * Only symmetric keys rotate, as AWS KMS: for asymmetric and HMAC keys a new key would be a new
   * public key or MAC key under the same id, so the change calls are UnsupportedOperationException.
   * Keys with imported material neither: AWS KMS rotates them on demand only into material imported
   * for that beforehand (ImportType NEW_KEY_MATERIAL), which this service does not take.
   */
  /** A multi-Region replica rotates with its primary only: UnsupportedOperationException. */
  private KeyRecord requireNotReplica(KeyRecord key, String operation) {
    if (KeyArns.isMultiRegion(key.keyId())) {
      store
          .multiRegionKeys()
          .find(key.keyId())
          .filter(c -> !c.primaryRegion().equals(keys.arns().region()))
          .ifPresent(
              c -> {
                throw new KmsException(
                    KmsError.UNSUPPORTED_OPERATION,
                    operation
                        + ": "
                        + KeyArns.keyIdText(key.keyId())
                        + " is a multi-Region replica; rotate its primary in "
                        + c.primaryRegion());
              });
    }
    return key;
  }

  static KeyRecord requireRotatable(KeyRecord key, String operation) {
    if (Origin.valueOf(key.origin()) == Origin.EXTERNAL) {
      throw new KmsException(
          KmsError.UNSUPPORTED_OPERATION,
          operation
              + ": key '"
              + key.keyId()
              + "' has imported key material (Origin EXTERNAL): it does not rotate here");
    }
    if (!KeySpec.valueOf(key.keySpec()).isSymmetric()) {
      throw new KmsException(
          KmsError.UNSUPPORTED_OPERATION,
          operation + ": key '" + key.keyId() + "' is " + key.keySpec() + ": it cannot rotate");
    }
    return key;
  }

  static KeyRecord requireEnabled(KeyRecord key, String operation) {
    KeyState state = KeyStates.state(key);
    if (state == KeyState.DISABLED) {
      throw new KmsException(
          KmsError.DISABLED, operation + ": key '" + key.keyId() + "' is disabled");
    }
    return KeyStates.requireNotPendingDeletion(key, operation);
  }
}
