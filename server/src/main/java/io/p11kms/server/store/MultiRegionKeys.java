package io.p11kms.server.store;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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

  /** Adds {@code region} to the key's replicas; false when the key is not multi-Region here. */
  boolean addReplicaRegion(UUID keyId, String region, Instant now);

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
   * Records a new primary region in one transaction: the configuration (no hand-over pending) and
   * the key's automatic rotation, which only the primary has ({@code rotationPeriodDays} null:
   * off).
   *
   * @return false when the key is not multi-Region here
   */
  boolean changePrimary(
      UUID keyId,
      Configuration configuration,
      Integer rotationPeriodDays,
      Instant nextRotation,
      Instant now);

  /**
   * Removes {@code region} from the key's replicas, in one transaction with what follows from it: a
   * primary in PendingReplicaDeletion whose last replica this was becomes PendingDeletion, due its
   * stored waiting period from {@code now}.
   *
   * @return the configuration afterwards; empty when the key is not multi-Region here
   */
  Optional<Configuration> removeReplicaRegion(UUID keyId, String region, Instant now);

  /** Every version of the key, oldest first. */
  List<KeyVersionRecord> versions(UUID keyId);
}
