package io.p11kms.server.service;

import io.p11kms.server.store.KeyStore;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes keys whose deletion window has passed: their EKTs, aliases, tags and metadata go for
 * good, in one transaction per key, and a tombstone (key id and deletion time) stays so that their
 * ciphertexts get NotFound. A scheduler calls {@link #runDueDeletions()}; tests call it directly
 * with a clock of their own.
 */
public final class DeletionTask {
  private static final Logger log = LoggerFactory.getLogger(DeletionTask.class);
  static final int BATCH = 100;

  private final KeyStore store;
  private final Clock clock;
  private final KeyDeletionGate gate;

  public DeletionTask(KeyStore store, Clock clock) {
    this(store, clock, KeyDeletionGate.NONE);
  }

  /** As above; each key passes {@code gate} before it is deleted. */
  public DeletionTask(KeyStore store, Clock clock, KeyDeletionGate gate) {
    this.store = store;
    this.clock = clock;
    this.gate = gate;
  }

  /**
   * Deletes every key that is due now, by the clock. A key whose deletion was cancelled in the
   * meantime is left alone (the store re-checks inside the deleting transaction).
   *
   * @return how many keys were deleted
   */
  public int runDueDeletions() {
    Instant now = clock.instant();
    int deleted = 0;
    while (true) {
      List<UUID> due = store.findKeysDueForDeletion(now, BATCH);
      int deletedInBatch = 0;
      for (UUID keyId : due) {
        try {
          gate.beforeDeleting(keyId);
        } catch (KmsException e) {
          // This key's deletion waits for the next pass; the others go on.
          log.warn("key {} is not deleted yet: {}", keyId, e.getMessage());
          continue;
        }
        if (store.deleteKey(keyId, now)) {
          deletedInBatch++;
          log.info("key {} deleted: its deletion window has passed", keyId);
        }
      }
      deleted += deletedInBatch;
      if (due.size() < BATCH || deletedInBatch == 0) {
        return deleted;
      }
    }
  }
}
