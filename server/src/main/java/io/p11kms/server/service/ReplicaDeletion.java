package io.p11kms.server.service;

import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.MultiRegionKeys;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The deletion of a multi-Region key's replica: its region tells the primary's region first, which
 * counts it out and tells the other replicas' regions (at once, or at the next pass: {@link
 * RegionAnnouncements}).
 */
final class ReplicaDeletion {
  private static final Logger log = LoggerFactory.getLogger(ReplicaDeletion.class);

  private final KeyStore store;
  private final KeyService keys;
  private final KeyArns arns;
  private final RegionPeers peers;
  private final MultiRegionConfigurations configurations;
  private final RegionAnnouncements announcements;

  ReplicaDeletion(
      KeyStore store,
      KeyService keys,
      KeyArns arns,
      RegionPeers peers,
      MultiRegionConfigurations configurations,
      RegionAnnouncements announcements) {
    this.store = store;
    this.keys = keys;
    this.arns = arns;
    this.peers = peers;
    this.configurations = configurations;
    this.announcements = announcements;
  }

  /** See {@link MultiRegionService#replicaDeleted}. */
  void replicaDeleted(String fromRegion, UUID keyId) {
    keys.find(keyId);
    MultiRegionKeys.Configuration here = configurations.requireKnown(keyId);
    if (!here.primaryRegion().equals(arns.region())) {
      throw new KmsException(
          KmsError.INVALID_STATE,
          KeyArns.keyIdText(keyId)
              + " here is a replica; its primary is in "
              + here.primaryRegion());
    }
    if (!here.replicaRegions().contains(fromRegion)) {
      return; // counted out already
    }
    MultiRegionKeys.Configuration after =
        store
            .multiRegionKeys()
            .removeReplicaRegion(keyId, fromRegion, configurations.now())
            .orElseThrow();
    log.info(
        "multi-Region key {}: the replica in {} is deleted; {} replicas left, state {}",
        KeyArns.keyIdText(keyId),
        fromRegion,
        after.replicaRegions().size(),
        keys.find(keyId).keyState());
    announcements.tell(keyId);
  }

  /** See {@link MultiRegionService#beforeDeleting}. */
  void tellPrimary(UUID keyId) {
    if (!KeyArns.isMultiRegion(keyId)) {
      return;
    }
    Optional<MultiRegionKeys.Configuration> here = store.multiRegionKeys().find(keyId);
    if (here.isEmpty() || here.get().primaryRegion().equals(arns.region())) {
      return;
    }
    peers.replicaDeleted(here.get().primaryRegion(), keyId);
  }
}
