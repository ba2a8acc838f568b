package io.p11kms.server.store;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

/**
 * Multi-Region keys in the store: for each, the region of its primary and of its replicas, as this
 * region knows them. A replica is stored whole (key, every version, tags, policy, configuration) in
 * one transaction, so that a replication that stops half-way leaves nothing.
 */
public interface MultiRegionKeys {

  /**
   * Where a multi-Region key's primary and replicas are.
   *
   * @param primaryRegion the region of the primary key
   * @param replicaRegions the regions of its replicas, sorted
   * @param updatingTo in the primary's region while it hands the primary role to the replica in
   *     that region (UpdatePrimaryRegion) and that region has not confirmed yet; null otherwise
   */
  record Configuration(String primaryRegion, List<String> replicaRegions, String updatingTo) {
    public Configuration {
      KeyRecord.requireNonNull(primaryRegion, "primary region");
      replicaRegions =
          replicaRegions == null ? List.of() : List.copyOf(new TreeSet<>(replicaRegions));
    }

    public Configuration(String primaryRegion, List<String> replicaRegions) {
      this(primaryRegion, replicaRegions, null);
    }

    /** Whether the primary role is being handed over (the key's state shows Updating). */
    public boolean updating() {
      return updatingTo != null;
    }
  }

  /**
   * Stores a new primary key with its first version and tags, and its configuration (no replicas),
   * in one transaction.
   */
  void createPrimary(
      KeyRecord key, KeyVersionRecord firstVersion, Map<String, String> tags, String region);

  /**
   * Stores a replica: the key, every version, its tags and policy and its configuration, in one
   * transaction.
   *
   * @return false, storing nothing, when the key is here already
   */
  boolean createReplica(
      KeyRecord key,
      List<KeyVersionRecord> versions,
      Map<String, String> tags,
      String policy,
      Configuration configuration,
      Instant now);

  /** Stores the versions of {@code keyId} that are not here yet; returns how many. */
  int addVersions(UUID keyId, List<KeyVersionRecord> versions);

  /** The key's configuration; empty for a key that is not multi-Region (or does not exist). */
  Optional<Configuration> find(UUID keyId);

  /**
   * ReplicateKey, in the primary's region, before anything is sent: records that the replica in
   * {@code region} is being made, in one transaction with the check that the key's state is one of
   * {@code states}. Until {@link #addReplicaRegion} or {@link #endReplication}, the key counts as
   * having that replica for {@link #scheduleDeletion}.
   *
   * @return false, recording nothing, when the key is in another state (or does not exist)
   */
  boolean startReplication(UUID keyId, String region, Set<String> states, Instant now);

  /**
   * A replication {@link #startReplication started} that made no replica: forgotten, in one
   * transaction with what follows from it (as {@link #removeReplicaRegion}).
   */
  void endReplication(UUID keyId, String region, Instant now);

  /**
   * Adds {@code region} to the key's replicas (ending its replication) and marks every replica's
   * region to be told the new configuration, in one transaction; false when the key is not
   * multi-Region here.
   */
  boolean addReplicaRegion(UUID keyId, String region, Instant now);

  /**
   * ScheduleKeyDeletion of a multi-Region key, in one transaction with the check of its replicas: a
   * primary in {@code self} with a replica, or a replica being made, becomes
   * PENDING_REPLICA_DELETION (no deletion date, the waiting period kept); any other key
   * PENDING_DELETION until {@code deletionDate}.
   *
   * @return the state set; empty, changing nothing, when the key's state is not {@code
   *     expectedState}
   */
  Optional<String> scheduleDeletion(
      UUID keyId, String expectedState, String self, int pendingWindowDays, Instant deletionDate);

  /**
   * A key's configuration as this region knows it, at its revision, and the regions that have not
   * confirmed it yet.
   */
  record Announcement(
      UUID keyId, Configuration configuration, long revision, List<String> regions) {}

  /** The keys with regions still to tell, at most {@code limit}. */
  List<UUID> keysToAnnounce(int limit);

  /** What this region has yet to tell about {@code keyId}; empty when nothing. */
  Optional<Announcement> announcement(UUID keyId);

  /**
   * {@code region} stored the key's configuration at {@code revision}: it is told no more, unless
   * the configuration changed since (it may have stored an older one after a newer), when it stays
   * to be told; {@code revision} null: it is no longer one of the key's regions.
   */
  void announced(UUID keyId, String region, Long revision);

  /**
   * UpdatePrimaryRegion, in the primary's region: records that the primary role is being handed to
   * {@code newPrimary}.
   *
   * @return false, changing nothing, unless the key's primary is {@code self} and it is not being
   *     handed to another region already
   */
  boolean beginPrimaryUpdate(UUID keyId, String self, String newPrimary, Instant now);

  /** Forgets a hand-over to {@code newPrimary} that region refused; false if there was none. */
  boolean cancelPrimaryUpdate(UUID keyId, String newPrimary, Instant now);

  /**
   * Records a new primary region in one transaction: the configuration (no hand-over pending), the
   * key's automatic rotation, which only the primary has ({@code rotationPeriodDays} null: off),
   * and the regions this one is to tell of it ({@code tell}).
   *
   * @return false when the key is not multi-Region here
   */
  boolean changePrimary(
      UUID keyId,
      Configuration configuration,
      Integer rotationPeriodDays,
      Instant nextRotation,
      Collection<String> tell,
      Instant now);

  /**
   * Removes {@code region} from the key's replicas, in one transaction with what follows from it:
   * the other replicas' regions are to be told, and a primary in PendingReplicaDeletion whose last
   * replica this was (none being made) becomes PendingDeletion, due its stored waiting period from
   * {@code now}.
   *
   * @return the configuration afterwards; empty when the key is not multi-Region here
   */
  Optional<Configuration> removeReplicaRegion(UUID keyId, String region, Instant now);

  /** Every version of the key, oldest first. */
  List<KeyVersionRecord> versions(UUID keyId);
}
