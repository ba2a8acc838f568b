package io.p11kms.server.service;

import io.p11kms.hsm.RegionTransport;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.KeyRecord;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyVersionRecord;
import io.p11kms.server.store.MultiRegionKeys;
import io.p11kms.server.store.RotationSchedule;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ReplicateKey, and the receiving side of it: a multi-Region key's every version goes from this
 * region's token wrapped under the destination's transport key ({@link
 * RegionTransport#wrapForRegion}), over the peer channel ({@link RegionPeers}), is unwrapped only
 * inside the destination's token and re-wrapped there under its domain key ({@link
 * RegionTransport#receiveFromRegion}), and the replica is stored whole in one transaction. Both
 * sides are idempotent, so a replication that failed anywhere completes when retried.
 */
public final class MultiRegionService implements NewVersionGate, KeyDeletionGate {
  private static final Logger log = LoggerFactory.getLogger(MultiRegionService.class);

  private final RegionTransport hsm;
  private final KeyStore store;
  private final KeyService keys;
  private final KeyArns arns;
  private final RegionPeers peers;
  private final Clock clock;

  public MultiRegionService(
      RegionTransport hsm,
      KeyStore store,
      KeyService keys,
      KeyArns arns,
      RegionPeers peers,
      Clock clock) {
    this.hsm = hsm;
    this.store = store;
    this.keys = keys;
    this.arns = arns;
    this.peers = peers;
    this.clock = clock;
  }

  /**
   * Makes (or completes) the replica of the primary key {@code keyId} in {@code replicaRegion}.
   *
   * @param policy the replica's key policy; null or empty: the default key policy of the replica's
   *     region (none is stored there, so its administrators' default applies, as GetKeyPolicy there
   *     shows)
   * @param tags the replica's tags; null: none
   * @param description the replica's description; null: none (empty)
   * @return the replica's metadata as this region sees it (its ARN in {@code replicaRegion})
   */
  public KeyMetadata replicateKey(
      String keyId, String replicaRegion, String policy, List<Tag> tags, String description) {
    return replicate(keyId, replicaRegion, policy, tags, description).replicaKeyMetadata();
  }

  /**
   * ReplicateKey's answer: the replica as this region sees it, its key policy (null: none of its
   * own) and its tags.
   */
  public record Replicated(
      KeyMetadata replicaKeyMetadata, String replicaPolicy, List<Tag> replicaTags) {}

  /** As {@link #replicateKey}, with the replica's policy and tags as sent. */
  public Replicated replicate(
      String keyId, String replicaRegion, String policy, List<Tag> tags, String description) {
    UUID id = keys.resolveKey(keyId, "KeyId");
    if (replicaRegion == null || replicaRegion.isEmpty()) {
      throw KmsException.validation("ReplicaRegion is required");
    }
    KeyRecord key = keys.find(id);
    MultiRegionKeys.Configuration configuration = multiRegion(id, "ReplicateKey");
    if (!configuration.primaryRegion().equals(arns.region())) {
      throw new KmsException(
          KmsError.UNSUPPORTED_OPERATION,
          KeyArns.keyIdText(id)
              + " is a replica; replicate its primary in "
              + configuration.primaryRegion());
    }
    requireNotUpdating(id, configuration, "ReplicateKey");
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
    TreeSet<String> replicas = new TreeSet<>(configuration.replicaRegions());
    replicas.add(replicaRegion);
    RegionPeers.Replica replica =
        new RegionPeers.Replica(
            id,
            arns.region(),
            arns.region(),
            List.copyOf(replicas),
            replicaDescription,
            key.keyUsage(),
            key.keySpec(),
            key.creationDate(),
            arns.account(key.account()),
            replicaPolicy,
            replicaTags,
            wrapVersions(id, replicaRegion, store.multiRegionKeys().versions(id)));
    RegionPeers.Received received = peers.send(replicaRegion, replica);
    store.multiRegionKeys().addReplicaRegion(id, replicaRegion, now());
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
    return new Replicated(
        replicaMetadata,
        replicaPolicy,
        replicaTags.entrySet().stream().map(t -> new Tag(t.getKey(), t.getValue())).toList());
  }

  /**
   * On the destination: unwraps every version inside the token (re-wrapped under this region's
   * domain key) and stores the replica whole, or, when it is here already, the versions it lacks.
   *
   * @param fromRegion the authenticated peer region that sent it
   */
  public RegionPeers.Received receive(String fromRegion, RegionPeers.Replica replica) {
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
      MultiRegionKeys.Configuration configuration =
          store.multiRegionKeys().find(replica.keyId()).orElse(null);
      if (configuration != null
          && configuration.primaryRegion().equals(arns.region())
          && fromRegion.equals(configuration.updatingTo())) {
        // The region this one is handing the primary role to has taken it (it sends as the
        // primary): the hand-over is complete here too.
        becomeReplica(
            replica.keyId(),
            new MultiRegionKeys.Configuration(fromRegion, replica.replicaRegions()));
        configuration = store.multiRegionKeys().find(replica.keyId()).orElse(null);
      }
      if (configuration == null || !configuration.primaryRegion().equals(fromRegion)) {
        throw KmsException.validation("key " + replica.keyId() + " here is not that replica");
      }
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
                now());
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

  /**
   * A rotation of a multi-Region primary: every replica stores the new version before this region
   * does (and so before anyone encrypts under it). A replica that cannot be reached fails the
   * rotation, which stores nothing here; a replica that got it keeps it (a version nobody encrypted
   * under) and the next rotation sends it the newer one.
   */
  @Override
  public void beforeStoring(
      UUID keyId, UUID versionId, int versionNumber, Instant createdAt, WrappedKey backingKey) {
    if (!KeyArns.isMultiRegion(keyId)) {
      return;
    }
    Optional<MultiRegionKeys.Configuration> configuration = store.multiRegionKeys().find(keyId);
    if (configuration.isEmpty() || configuration.get().replicaRegions().isEmpty()) {
      return;
    }
    requireNotUpdating(keyId, configuration.get(), "RotateKey");
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

  /**
   * UpdatePrimaryRegion, called in the primary's region: the replica in {@code primaryRegion}
   * becomes the primary (with the key's automatic rotation) and this key a replica, in every
   * region.
   *
   * <p>The primary role moves in one step, in the new primary's region, and never exists twice or
   * nowhere: first this region records that it hands the role over (the key shows Updating here,
   * and neither rotates nor replicates), then the new primary's region takes it in one transaction,
   * then this region records that it is a replica, then every other replica's region records the
   * new primary. If the new primary's region refuses (its key is not Enabled, it is not peered with
   * every region of the key), nothing changes anywhere. If it cannot be reached, or fails so that
   * it is unknown whether it took the role, this key stays Updating (still usable for cryptography)
   * and the call is DependencyTimeoutException: calling it again completes the hand-over, as does
   * the new primary's first rotation reaching this region. If another replica's region cannot be
   * reached, the hand-over is complete, and the call is DependencyTimeoutException too: calling it
   * again here (now in a replica's region, naming the new primary) tells that region.
   *
   * @param primaryRegion the region of the replica that becomes the primary
   */
  public void updatePrimaryRegion(String keyId, String primaryRegion) {
    UUID id = keys.resolveKey(keyId, "KeyId");
    if (primaryRegion == null || primaryRegion.isEmpty()) {
      throw KmsException.validation("PrimaryRegion is required");
    }
    String self = arns.region();
    MultiRegionKeys.Configuration configuration = multiRegion(id, "UpdatePrimaryRegion");
    if (!configuration.primaryRegion().equals(self)) {
      if (configuration.primaryRegion().equals(primaryRegion)) {
        // Called again after the new primary took the role: tell the other replicas again.
        announce(
            id,
            new RegionPeers.PrimaryChange(
                id, primaryRegion, configuration.replicaRegions(), null, null));
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
      requireNotUpdating(id, configuration, "UpdatePrimaryRegion");
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
    if (!store.multiRegionKeys().beginPrimaryUpdate(id, self, primaryRegion, now())) {
      throw KeyLifecycleService.contended(id);
    }
    try {
      peers.updatePrimary(primaryRegion, change);
    } catch (KmsException e) {
      if (e.error() != KmsError.DEPENDENCY_TIMEOUT) {
        // Refused: that region changed nothing, and this one stays the primary.
        store.multiRegionKeys().cancelPrimaryUpdate(id, primaryRegion, now());
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
    becomeReplica(id, new MultiRegionKeys.Configuration(primaryRegion, List.copyOf(replicas)));
    log.info("multi-Region key {}: the primary is now in {}", KeyArns.keyIdText(id), primaryRegion);
    announce(id, change);
  }

  /**
   * On a replica's region: the key's primary region changes. In the region named as the new
   * primary, its replica takes the role (from the current primary only, while it is Enabled and
   * this region is peered with every other region of the key); in any other, the new primary is
   * recorded. Idempotent.
   *
   * @param fromRegion the authenticated peer region that sent it
   */
  public void acceptPrimaryChange(String fromRegion, RegionPeers.PrimaryChange change) {
    String self = arns.region();
    UUID id = change.keyId();
    KeyRecord key = keys.find(id);
    MultiRegionKeys.Configuration here =
        store
            .multiRegionKeys()
            .find(id)
            .orElseThrow(
                () -> KmsException.notFound(KeyArns.keyIdText(id) + " is not a multi-Region key"));
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
      store
          .multiRegionKeys()
          .changePrimary(
              id,
              new MultiRegionKeys.Configuration(self, change.replicaRegions()),
              change.rotationPeriodDays(),
              change.nextRotation(),
              now());
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
    if (!here.primaryRegion().equals(fromRegion)) {
      throw KmsException.validation(
          "the primary of " + KeyArns.keyIdText(id) + " is in " + here.primaryRegion());
    }
    becomeReplica(id, changed);
  }

  /**
   * On the primary's region: the replica in {@code fromRegion} is being deleted for good. It is no
   * longer counted; a primary in PendingReplicaDeletion whose last replica it was becomes
   * PendingDeletion (its waiting period starts now), and the other replicas' regions learn the new
   * list (as far as they can be reached; the list is sent again with the next change). Idempotent.
   *
   * @param fromRegion the authenticated peer region that sent it
   */
  public void replicaDeleted(String fromRegion, UUID keyId) {
    keys.find(keyId);
    MultiRegionKeys.Configuration here =
        store
            .multiRegionKeys()
            .find(keyId)
            .orElseThrow(
                () ->
                    KmsException.notFound(KeyArns.keyIdText(keyId) + " is not a multi-Region key"));
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
        store.multiRegionKeys().removeReplicaRegion(keyId, fromRegion, now()).orElseThrow();
    log.info(
        "multi-Region key {}: the replica in {} is deleted; {} replicas left, state {}",
        KeyArns.keyIdText(keyId),
        fromRegion,
        after.replicaRegions().size(),
        keys.find(keyId).keyState());
    try {
      announce(
          keyId,
          new RegionPeers.PrimaryChange(
              keyId, after.primaryRegion(), after.replicaRegions(), null, null));
    } catch (KmsException e) {
      log.warn("{}", e.getMessage());
    }
  }

  /**
   * Before a replica here is deleted for good, its primary's region learns of it (which may start
   * the primary's own waiting period); if it cannot be reached, the replica is not deleted yet.
   */
  @Override
  public void beforeDeleting(UUID keyId) {
    if (!KeyArns.isMultiRegion(keyId)) {
      return;
    }
    Optional<MultiRegionKeys.Configuration> here = store.multiRegionKeys().find(keyId);
    if (here.isEmpty() || here.get().primaryRegion().equals(arns.region())) {
      return;
    }
    peers.replicaDeleted(here.get().primaryRegion(), keyId);
  }

  /** This region's transport key fingerprint (made on first call), for peers to check. */
  public String transportFingerprint() {
    return TokenCalls.call("GetTransportKey", hsm::regionTransportKey).fingerprint();
  }

  /** Tells every replica's region but this one the key's new primary. */
  private void announce(UUID id, RegionPeers.PrimaryChange change) {
    List<String> missed = new ArrayList<>();
    for (String region : change.replicaRegions()) {
      if (region.equals(arns.region())) {
        continue;
      }
      try {
        peers.updatePrimary(region, change);
      } catch (KmsException e) {
        log.warn(
            "multi-Region key {}: region {} did not record the new primary {}: {}",
            KeyArns.keyIdText(id),
            region,
            change.primaryRegion(),
            e.getMessage());
        missed.add(region);
      }
    }
    if (!missed.isEmpty()) {
      throw new KmsException(
          KmsError.DEPENDENCY_TIMEOUT,
          "the primary of "
              + KeyArns.keyIdText(id)
              + " is now in "
              + change.primaryRegion()
              + ", but "
              + String.join(", ", missed)
              + " did not record it: call UpdatePrimaryRegion again to tell them");
    }
  }

  /** Records {@code configuration} here, a replica's: no hand-over pending, no rotation. */
  private void becomeReplica(UUID id, MultiRegionKeys.Configuration configuration) {
    store.multiRegionKeys().changePrimary(id, configuration, null, null, now());
  }

  private MultiRegionKeys.Configuration multiRegion(UUID id, String operation) {
    keys.find(id);
    return store
        .multiRegionKeys()
        .find(id)
        .orElseThrow(
            () ->
                new KmsException(
                    KmsError.UNSUPPORTED_OPERATION,
                    operation
                        + " takes a multi-Region key; "
                        + KeyArns.keyIdText(id)
                        + " is not a multi-Region key"));
  }

  /** While the primary role is being handed over, the key neither rotates nor replicates. */
  private static void requireNotUpdating(
      UUID id, MultiRegionKeys.Configuration configuration, String operation) {
    if (configuration.updating()) {
      throw new KmsException(
          KmsError.INVALID_STATE,
          operation
              + ": "
              + KeyArns.keyIdText(id)
              + " is Updating: its primary role is being handed to "
              + configuration.updatingTo()
              + "; call UpdatePrimaryRegion naming it to complete that");
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

  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MICROS);
  }
}
