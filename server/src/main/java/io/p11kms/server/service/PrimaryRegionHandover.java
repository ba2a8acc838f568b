package io.p11kms.server.service;

import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.KeyRecord;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.MultiRegionKeys;
import io.p11kms.server.store.RotationSchedule;
import java.util.List;
import java.util.TreeSet;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * UpdatePrimaryRegion: the primary role of a multi-Region key moves from this region to a
 * replica's, and every region of the key learns the new primary. Both sides are here: the call in
 * the primary's region and the change a peer region receives.
 */
final class PrimaryRegionHandover {
  private static final Logger log = LoggerFactory.getLogger(PrimaryRegionHandover.class);

  private final KeyStore store;
  private final KeyService keys;
  private final KeyArns arns;
  private final RegionPeers peers;
  private final MultiRegionConfigurations configurations;
  private final RegionAnnouncements announcements;

  PrimaryRegionHandover(
      KeyStore store,
      KeyService keys,
      KeyArns arns,
      RegionPeers peers,
      MultiRegionConfigurations configurations,
      RegionAnnouncements announcements) {
    this.announcements = announcements;
    this.store = store;
    this.keys = keys;
    this.arns = arns;
    this.peers = peers;
    this.configurations = configurations;
  }

  /** See {@link MultiRegionService#updatePrimaryRegion}. */
  void updatePrimaryRegion(String keyId, String primaryRegion) {
    UUID id = keys.resolveKey(keyId, "KeyId");
    if (primaryRegion == null || primaryRegion.isEmpty()) {
      throw KmsException.validation("PrimaryRegion is required");
    }
    String self = arns.region();
    MultiRegionKeys.Configuration configuration =
        configurations.requireFor(id, "UpdatePrimaryRegion");
    if (!configuration.primaryRegion().equals(self)) {
      if (configuration.primaryRegion().equals(primaryRegion)) {
        // Called again after the new primary took the role: tell the other replicas that have
        // not heard of it yet, now.
        announcements.tell(id);
        return;
      }
      throw new KmsException(
          KmsError.UNSUPPORTED_OPERATION,
          "UpdatePrimaryRegion: "
              + KeyArns.keyIdText(id)
              + " is a replica; call it in its primary's region, "
              + configuration.primaryRegion());
    }
    if (primaryRegion.equals(self)) {
      throw KmsException.validation(
          "PrimaryRegion " + primaryRegion + " is the region of the primary key already");
    }
    if (!configuration.replicaRegions().contains(primaryRegion)) {
      throw KmsException.validation(
          "PrimaryRegion: " + KeyArns.keyIdText(id) + " has no replica in " + primaryRegion);
    }
    if (configuration.updating() && !configuration.updatingTo().equals(primaryRegion)) {
      MultiRegionConfigurations.requireNotUpdating(id, configuration, "UpdatePrimaryRegion");
    }
    KeyStates.requireEnabled(keys.find(id));
    RotationSchedule rotation =
        store
            .findRotationSchedule(id)
            .orElseThrow(() -> KmsException.notFound("Key '" + id + "' does not exist"));
    TreeSet<String> replicas = new TreeSet<>(configuration.replicaRegions());
    replicas.remove(primaryRegion);
    replicas.add(self);
    RegionPeers.PrimaryChange change =
        new RegionPeers.PrimaryChange(
            id,
            primaryRegion,
            List.copyOf(replicas),
            rotation.periodDays(),
            rotation.nextRotationDate());
    if (!store
        .multiRegionKeys()
        .beginPrimaryUpdate(id, self, primaryRegion, configurations.now())) {
      throw KeyLifecycleService.contended(id);
    }
    handOver(id, primaryRegion, change);
    configurations.becomeReplica(
        id, new MultiRegionKeys.Configuration(primaryRegion, List.copyOf(replicas)));
    log.info("multi-Region key {}: the primary is now in {}", KeyArns.keyIdText(id), primaryRegion);
    announcements.tell(id);
  }

  /** The new primary's region takes the role, or refuses (and this region stays the primary). */
  private void handOver(UUID id, String primaryRegion, RegionPeers.PrimaryChange change) {
    try {
      peers.updatePrimary(primaryRegion, change);
    } catch (KmsException e) {
      if (e.error() != KmsError.DEPENDENCY_TIMEOUT) {
        // Refused: that region changed nothing, and this one stays the primary.
        store.multiRegionKeys().cancelPrimaryUpdate(id, primaryRegion, configurations.now());
        throw e;
      }
      log.warn(
          "multi-Region key {}: region {} did not confirm it took the primary role: {}",
          KeyArns.keyIdText(id),
          primaryRegion,
          e.getMessage());
      throw new KmsException(
          KmsError.DEPENDENCY_TIMEOUT,
          "region "
              + primaryRegion
              + " did not confirm that it took the primary role; "
              + KeyArns.keyIdText(id)
              + " is Updating until UpdatePrimaryRegion is called again");
    }
  }

  /** See {@link MultiRegionService#acceptPrimaryChange}. */
  void acceptPrimaryChange(String fromRegion, RegionPeers.PrimaryChange change) {
    String self = arns.region();
    UUID id = change.keyId();
    KeyRecord key = keys.find(id);
    MultiRegionKeys.Configuration here = configurations.requireKnown(id);
    if (change.replicaRegions().contains(change.primaryRegion())) {
      throw KmsException.validation("malformed primary region update");
    }
    if (change.primaryRegion().equals(self)) {
      if (!change.replicaRegions().contains(fromRegion)) {
        throw KmsException.validation("malformed primary region update");
      }
      if (here.primaryRegion().equals(self)) {
        return; // taken already: a retry
      }
      if (!here.primaryRegion().equals(fromRegion)) {
        throw KmsException.validation(
            "the primary of " + KeyArns.keyIdText(id) + " is in " + here.primaryRegion());
      }
      KeyStates.requireEnabled(key);
      for (String region : change.replicaRegions()) {
        if (!peers.regions().contains(region)) {
          throw new KmsException(
              KmsError.INVALID_STATE,
              "region " + self + " is not peered with " + region + ": it cannot be the primary");
        }
      }
      // As the primary, this region tells every replica's region the new configuration at its
      // next pass (the old primary's too, which completes a hand-over whose answer was lost).
      store
          .multiRegionKeys()
          .changePrimary(
              id,
              new MultiRegionKeys.Configuration(self, change.replicaRegions()),
              change.rotationPeriodDays(),
              change.nextRotation(),
              change.replicaRegions(),
              configurations.now());
      log.info(
          "multi-Region key {}: this region took the primary role from {}",
          KeyArns.keyIdText(id),
          fromRegion);
      return;
    }
    // Any other region: records the new primary, or, from the primary, its replicas as they are
    // now.
    if (!change.replicaRegions().contains(self)) {
      throw KmsException.validation("malformed primary region update");
    }
    MultiRegionKeys.Configuration changed =
        new MultiRegionKeys.Configuration(change.primaryRegion(), change.replicaRegions());
    if (here.primaryRegion().equals(changed.primaryRegion())
        && here.replicaRegions().equals(changed.replicaRegions())) {
      return; // known already: a retry
    }
    if (here.primaryRegion().equals(fromRegion)
        || (here.primaryRegion().equals(self)
            && fromRegion.equals(here.updatingTo())
            && fromRegion.equals(change.primaryRegion()))) {
      // From the primary this region knows; or from the region this one hands the primary role
      // to, which has taken it: the hand-over is complete here too.
      configurations.becomeReplica(id, changed);
      return;
    }
    if (here.primaryRegion().equals(change.primaryRegion())) {
      return; // a hand-over the old primary tells, heard from the new primary already
    }
    throw KmsException.validation(
        "the primary of " + KeyArns.keyIdText(id) + " is in " + here.primaryRegion());
  }
}
