package io.p11kms.server.service;

import io.p11kms.hsm.RegionTransport;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.KeyRecord;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyVersionRecord;
import io.p11kms.server.store.MultiRegionKeys;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sending side of replication, in the primary's region: ReplicateKey sends a multi-Region key's
 * every version to a new replica's region, and a rotation of the primary sends the new version to
 * every replica's region before it is stored here. Each version leaves this region's token wrapped
 * under the destination's transport key ({@link RegionTransport#wrapForRegion}) and goes over the
 * peer channel ({@link RegionPeers}).
 */
final class ReplicaSender {
  private static final Logger log = LoggerFactory.getLogger(ReplicaSender.class);

  /** The states of a primary that ReplicateKey takes, as AWS KMS. */
  private static final Set<String> REPLICABLE_STATES =
      Set.of(KeyState.ENABLED.name(), KeyState.DISABLED.name());

  private final RegionTransport hsm;
  private final KeyStore store;
  private final KeyService keys;
  private final KeyArns arns;
  private final RegionPeers peers;
  private final MultiRegionConfigurations configurations;
  private final RegionAnnouncements announcements;

  ReplicaSender(
      RegionTransport hsm,
      KeyStore store,
      KeyService keys,
      KeyArns arns,
      RegionPeers peers,
      MultiRegionConfigurations configurations,
      RegionAnnouncements announcements) {
    this.announcements = announcements;
    this.hsm = hsm;
    this.store = store;
    this.keys = keys;
    this.arns = arns;
    this.peers = peers;
    this.configurations = configurations;
  }

  /** See {@link MultiRegionService#replicate}. */
  MultiRegionService.Replicated replicate(
      String keyId, String replicaRegion, String policy, List<Tag> tags, String description) {
    UUID id = keys.resolveKey(keyId, "KeyId");
    if (replicaRegion == null || replicaRegion.isEmpty()) {
      throw KmsException.validation("ReplicaRegion is required");
    }
    KeyRecord key = keys.find(id);
    MultiRegionKeys.Configuration configuration = configurations.requireFor(id, "ReplicateKey");
    if (!configuration.primaryRegion().equals(arns.region())) {
      throw new KmsException(
          KmsError.UNSUPPORTED_OPERATION,
          KeyArns.keyIdText(id)
              + " is a replica; replicate its primary in "
              + configuration.primaryRegion());
    }
    MultiRegionConfigurations.requireNotUpdating(id, configuration, "ReplicateKey");
    if (replicaRegion.equals(arns.region())) {
      throw KmsException.validation("ReplicaRegion must be another region than " + arns.region());
    }
    if (!peers.regions().contains(replicaRegion)) {
      throw KmsException.validation(
          "ReplicaRegion " + replicaRegion + " is not a peer region of " + arns.region());
    }
    KeyState state = KeyStates.state(key);
    if (state != KeyState.ENABLED && state != KeyState.DISABLED) {
      throw new KmsException(KmsError.INVALID_STATE, KeyArns.keyIdText(id) + " is " + state);
    }
    if (configuration.replicaRegions().contains(replicaRegion)) {
      throw new KmsException(
          KmsError.ALREADY_EXISTS,
          KeyArns.keyIdText(id) + " has a replica in " + replicaRegion + " already");
    }
    // As AWS: a replica's policy, tags and description are its own, not copies of the primary's.
    Map<String, String> replicaTags =
        tags == null ? Map.of() : new LinkedHashMap<>(Tags.require(tags, false));
    String replicaDescription = Requests.requireDescription(description == null ? "" : description);
    String replicaPolicy = policy == null || policy.isEmpty() ? null : policy;
    if (replicaPolicy != null) {
      io.p11kms.server.access.AccessControl.parsePolicy(replicaPolicy);
    }
    // The state is checked again, in one transaction with the record that this replica is being
    // made: a ScheduleKeyDeletion after it waits for this replica, one before it refuses it here.
    if (!store
        .multiRegionKeys()
        .startReplication(id, replicaRegion, REPLICABLE_STATES, configurations.now())) {
      throw new KmsException(
          KmsError.INVALID_STATE, KeyArns.keyIdText(id) + " is " + KeyStates.state(keys.find(id)));
    }
    RegionPeers.Received received;
    try {
      received =
          send(
              id,
              key,
              replicaRegion,
              configuration,
              replicaDescription,
              replicaPolicy,
              replicaTags);
    } catch (RuntimeException e) {
      store.multiRegionKeys().endReplication(id, replicaRegion, configurations.now());
      throw e;
    }
    store.multiRegionKeys().addReplicaRegion(id, replicaRegion, configurations.now());
    announcements.tell(id);
    log.info(
        "multi-Region key {} replicated to {} ({}; {} versions added)",
        KeyArns.keyIdText(id),
        replicaRegion,
        received.created() ? "created" : "already there",
        received.versionsAdded());
    KeyMetadata here = keys.metadata(keys.find(id));
    KeyMetadata replicaMetadata =
        new KeyMetadata(
            id,
            arns.keyArnIn(replicaRegion, key.account(), id),
            key.creationDate(),
            replicaDescription,
            here.keyUsage(),
            here.keySpec(),
            here.keyState(),
            Optional.empty(),
            Optional.empty(),
            here.account(),
            here.keyManager(),
            here.origin(),
            Optional.empty(),
            Optional.empty(),
            here.multiRegionConfiguration());
    return new MultiRegionService.Replicated(
        replicaMetadata,
        replicaPolicy,
        replicaTags.entrySet().stream().map(t -> new Tag(t.getKey(), t.getValue())).toList());
  }

  /** Wraps every version of the key for {@code region} and sends the replica there. */
  private RegionPeers.Received send(
      UUID id,
      KeyRecord key,
      String region,
      MultiRegionKeys.Configuration configuration,
      String description,
      String policy,
      Map<String, String> tags) {
    TreeSet<String> replicas = new TreeSet<>(configuration.replicaRegions());
    replicas.add(region);
    return peers.send(
        region,
        new RegionPeers.Replica(
            id,
            arns.region(),
            arns.region(),
            List.copyOf(replicas),
            description,
            key.keyUsage(),
            key.keySpec(),
            key.creationDate(),
            arns.account(key.account()),
            policy,
            tags,
            wrapVersions(id, region, store.multiRegionKeys().versions(id))));
  }

  /** See {@link MultiRegionService#beforeStoring}. */
  void sendNewVersion(
      UUID keyId, UUID versionId, int versionNumber, Instant createdAt, WrappedKey backingKey) {
    if (!KeyArns.isMultiRegion(keyId)) {
      return;
    }
    Optional<MultiRegionKeys.Configuration> configuration = store.multiRegionKeys().find(keyId);
    if (configuration.isEmpty() || configuration.get().replicaRegions().isEmpty()) {
      return;
    }
    MultiRegionConfigurations.requireNotUpdating(keyId, configuration.get(), "RotateKey");
    KeyRecord key = keys.find(keyId);
    for (String region : configuration.get().replicaRegions()) {
      String expected = peers.transportFingerprint(region);
      var wrapped = TokenCalls.call("RotateKey", () -> hsm.wrapForRegion(region, backingKey));
      requireFingerprint(region, expected, wrapped.transportFingerprint());
      peers.send(
          region,
          new RegionPeers.Replica(
              keyId,
              arns.region(),
              arns.region(),
              configuration.get().replicaRegions(),
              key.description(),
              key.keyUsage(),
              key.keySpec(),
              key.creationDate(),
              arns.account(key.account()),
              null,
              Map.of(),
              List.of(new RegionPeers.Version(versionId, versionNumber, createdAt, wrapped))));
    }
  }

  private List<RegionPeers.Version> wrapVersions(
      UUID id, String region, List<KeyVersionRecord> versions) {
    String expected = peers.transportFingerprint(region);
    List<RegionPeers.Version> out = new ArrayList<>();
    for (KeyVersionRecord v : versions) {
      WrappedKey ekt = EnvelopeCipher.backingKey(v);
      var wrapped = TokenCalls.call("ReplicateKey", () -> hsm.wrapForRegion(region, ekt));
      requireFingerprint(region, expected, wrapped.transportFingerprint());
      out.add(new RegionPeers.Version(v.versionId(), v.versionNumber(), v.createdAt(), wrapped));
    }
    return out;
  }

  private static void requireFingerprint(String region, String reported, String trusted) {
    if (!trusted.equals(reported)) {
      throw new KmsException(
          KmsError.INVALID_STATE,
          "region "
              + region
              + " reports transport key "
              + reported
              + ", but this token trusts "
              + trusted
              + " for it: peer the regions again");
    }
  }
}
