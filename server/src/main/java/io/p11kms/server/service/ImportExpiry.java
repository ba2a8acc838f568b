package io.p11kms.server.service;

import io.p11kms.hsm.KeyMaterialImport;
import io.p11kms.server.store.ImportedMaterial;
import io.p11kms.server.store.KeyRecord;
import io.p11kms.server.store.KeyStore;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What expires around imported key material. {@link #runDueExpiries()}: material whose ValidTo has
 * come is deleted and its key becomes PendingImport (work on the database: one server at a time,
 * under a lease). {@link #destroyExpiredWrappingKeys()}: import wrapping keys past their 24 hours
 * are destroyed (work on this server's token: every server, each on its own). A scheduler calls
 * both; tests call them directly with a clock of their own.
 */
public final class ImportExpiry {
  private static final Logger log = LoggerFactory.getLogger(ImportExpiry.class);
  static final int BATCH = 100;

  private final KeyMaterialImport hsm;
  private final KeyStore store;
  private final Clock clock;

  public ImportExpiry(KeyMaterialImport hsm, KeyStore store, Clock clock) {
    this.hsm = hsm;
    this.store = store;
    this.clock = clock;
  }

  /**
   * Deletes every key material whose expiry has come by the clock. A key pending deletion stays so;
   * material imported again meanwhile (another expiry) is left alone.
   *
   * @return how many keys lost their material
   */
  public int runDueExpiries() {
    Instant now = clock.instant();
    int expired = 0;
    while (true) {
      List<UUID> due = store.findKeysWithMaterialExpiring(now, BATCH);
      int expiredInBatch = 0;
      for (UUID keyId : due) {
        if (expire(keyId, now)) {
          expiredInBatch++;
          log.info("key {}: imported key material expired and was deleted", keyId);
        }
      }
      expired += expiredInBatch;
      if (due.size() < BATCH || expiredInBatch == 0) {
        return expired;
      }
    }
  }

  private boolean expire(UUID keyId, Instant now) {
    Optional<KeyRecord> key = store.findKey(keyId);
    Optional<ImportedMaterial> material = store.findImportedMaterial(keyId);
    if (key.isEmpty()
        || material.isEmpty()
        || material.get().validTo() == null
        || material.get().validTo().isAfter(now)) {
      return false;
    }
    KeyState state = KeyStates.state(key.get());
    KeyState after = state == KeyState.PENDING_DELETION ? state : KeyState.PENDING_IMPORT;
    return store.deleteImportedMaterial(
        keyId, state.name(), after.name(), material.get().validTo());
  }

  /** Destroys the import wrapping keys on this server's token whose 24 hours are over. */
  public int destroyExpiredWrappingKeys() {
    int destroyed =
        TokenCalls.call(
            "destroy expired import wrapping keys",
            () -> hsm.destroyExpiredImportWrappingKeys(clock.instant()));
    if (destroyed > 0) {
      log.info("destroyed {} expired import wrapping keys", destroyed);
    }
    return destroyed;
  }
}
