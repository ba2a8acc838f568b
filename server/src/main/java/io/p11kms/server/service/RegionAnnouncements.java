package io.p11kms.server.service;

import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.MultiRegionKeys;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the other regions of a multi-Region key its configuration (the primary's region and the
 * replicas' regions) as this region knows it, so that DescribeKey shows the same in every region:
 * the primary's region tells its replicas' regions of each replica made or deleted, and the old
 * primary's region tells them of a hand-over (they take a change only from the primary they know).
 * Which regions are still to be told is recorded with the change that makes it, in the same
 * transaction; they are told at once, and a region that cannot be reached is told again at the next
 * pass ({@link #tellPending}).
 */
final class RegionAnnouncements {
  private static final Logger log = LoggerFactory.getLogger(RegionAnnouncements.class);

  /** Keys looked at in one pass. */
  static final int BATCH = 1000;

  private final KeyStore store;
  private final KeyArns arns;
  private final RegionPeers peers;

  RegionAnnouncements(KeyStore store, KeyArns arns, RegionPeers peers) {
    this.store = store;
    this.arns = arns;
    this.peers = peers;
  }

  /** The pass: tells every region still to be told; returns how many confirmed. */
  int tellPending() {
    int told = 0;
    for (UUID keyId : store.multiRegionKeys().keysToAnnounce(BATCH)) {
      told += tell(keyId);
    }
    return told;
  }

  /**
   * Tells the regions still to be told of {@code keyId}'s configuration; one that cannot be
   * reached, or refuses (it has not heard of a change it must hear of first), is told again at the
   * next pass. Returns how many confirmed.
   */
  int tell(UUID keyId) {
    MultiRegionKeys.Announcement announcement =
        store.multiRegionKeys().announcement(keyId).orElse(null);
    if (announcement == null) {
      return 0;
    }
    MultiRegionKeys.Configuration configuration = announcement.configuration();
    int told = 0;
    for (String region : announcement.regions()) {
      if (region.equals(arns.region())
          || !configuration.replicaRegions().contains(region)
          || region.equals(configuration.primaryRegion())) {
        // No longer one of the key's replicas, or the primary, which told this region.
        store.multiRegionKeys().announced(keyId, region, null);
        continue;
      }
      try {
        peers.updatePrimary(
            region,
            new RegionPeers.PrimaryChange(
                keyId, configuration.primaryRegion(), configuration.replicaRegions(), null, null));
        store.multiRegionKeys().announced(keyId, region, announcement.revision());
        told++;
      } catch (KmsException e) {
        log.warn(
            "multi-Region key {}: region {} did not record its regions (primary {}, replicas {});"
                + " told again at the next pass: {}",
            KeyArns.keyIdText(keyId),
            region,
            configuration.primaryRegion(),
            configuration.replicaRegions(),
            e.getMessage());
      }
    }
    return told;
  }
}
