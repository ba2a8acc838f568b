package io.p11kms.server.service;

import io.p11kms.hsm.RegionTransport;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.KeyRecord;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyVersionRecord;
import io.p11kms.server.store.MultiRegionKeys;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving side of replication, in a replica's region: every version sent is unwrapped only
 * inside this region's token and re-wrapped there under its domain key ({@link
 * RegionTransport#receiveFromRegion}), and the replica is stored whole in one transaction, or, when
 * it is here already, the versions it lacks are added. Idempotent, so a delivery that failed
 * anywhere completes when retried.
 */
final class ReplicaReceiver {
  private static final Logger log = LoggerFactory.getLogger(ReplicaReceiver.class);

  private final RegionTransport hsm;
  private final KeyStore store;
  private final KeyArns arns;
  private final MultiRegionConfigurations configurations;

  ReplicaReceiver(
      RegionTransport hsm, KeyStore store, KeyArns arns, MultiRegionConfigurations configurations) {
    this.hsm = hsm;
    this.store = store;
    this.arns = arns;
    this.configurations = configurations;
  }

  /** See {@link MultiRegionService#receive}. */
  RegionPeers.Received receive(String fromRegion, RegionPeers.Replica replica) {
    if (!KeyArns.isMultiRegion(replica.keyId())) {
      throw KmsException.validation("not a multi-Region key id");
    }
    if (!fromRegion.equals(replica.primaryRegion()) || !fromRegion.equals(replica.sourceRegion())) {
      throw KmsException.validation(
          "a replica comes from its primary's region, " + replica.primaryRegion());
    }
    if (!replica.replicaRegions().contains(arns.region())) {
      throw KmsException.validation("the replica is not meant for region " + arns.region());
    }
    Optional<KeyRecord> present = store.findKey(replica.keyId());
    if (present.isPresent()) {
      requireFromPrimary(fromRegion, replica);
    }
    List<KeyVersionRecord> versions = new ArrayList<>();
    for (RegionPeers.Version v : replica.versions()) {
      if (present.isPresent() && store.findVersion(replica.keyId(), v.versionId()).isPresent()) {
        continue;
      }
      WrappedKey local = TokenCalls.call("ReplicateKey", () -> hsm.receiveFromRegion(v.wrapped()));
      versions.add(
          new KeyVersionRecord(
              replica.keyId(),
              v.versionId(),
              v.versionNumber(),
              v.createdAt(),
              local.domainKeyGeneration(),
              local.wrapMechanism().code(),
              local.ekt()));
    }
    if (present.isPresent()) {
      int added = store.multiRegionKeys().addVersions(replica.keyId(), versions);
      return new RegionPeers.Received(false, added);
    }
    KeyRecord key =
        new KeyRecord(
            replica.keyId(),
            replica.creationDate(),
            Requests.requireDescription(replica.description()),
            KeyUsage.valueOf(replica.keyUsage()).name(),
            KeySpec.valueOf(replica.keySpec()).name(),
            KeyState.ENABLED.name(),
            Origin.AWS_KMS.name(),
            null,
            null,
            arns.stored(replica.account()),
            KeyManager.CUSTOMER.name(),
            null);
    boolean created =
        store
            .multiRegionKeys()
            .createReplica(
                key,
                versions,
                replica.tags(),
                replica.policy(),
                new MultiRegionKeys.Configuration(
                    replica.primaryRegion(), replica.replicaRegions()),
                configurations.now());
    if (!created) {
      // Stored by a concurrent delivery of the same replica in the meantime: add what it lacks.
      return new RegionPeers.Received(
          false, store.multiRegionKeys().addVersions(replica.keyId(), versions));
    }
    log.info(
        "replica of multi-Region key {} stored from {} ({} versions)",
        KeyArns.keyIdText(replica.keyId()),
        fromRegion,
        versions.size());
    return new RegionPeers.Received(true, versions.size());
  }

  /** The key here is a replica whose primary is in {@code fromRegion}. */
  private void requireFromPrimary(String fromRegion, RegionPeers.Replica replica) {
    MultiRegionKeys.Configuration configuration =
        store.multiRegionKeys().find(replica.keyId()).orElse(null);
    if (configuration != null
        && configuration.primaryRegion().equals(arns.region())
        && fromRegion.equals(configuration.updatingTo())) {
      // The region this one is handing the primary role to has taken it (it sends as the
      // primary): the hand-over is complete here too.
      configurations.becomeReplica(
          replica.keyId(), new MultiRegionKeys.Configuration(fromRegion, replica.replicaRegions()));
      configuration = store.multiRegionKeys().find(replica.keyId()).orElse(null);
    }
    if (configuration == null || !configuration.primaryRegion().equals(fromRegion)) {
      throw KmsException.validation("key " + replica.keyId() + " here is not that replica");
    }
  }
}
