package io.p11kms.server.service;

import io.p11kms.hsm.RegionTransport;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.KeyStore;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * The multi-Region key operations, as the front ends and the peer channel call them: ReplicateKey
 * and the receiving side of it ({@link ReplicaSender}, {@link ReplicaReceiver}), a rotation of a
 * primary reaching its replicas first, UpdatePrimaryRegion ({@link PrimaryRegionHandover}) and the
 * deletion of a replica ({@link ReplicaDeletion}). A multi-Region key's every version goes from
 * this region's token wrapped under the destination's transport key, over the peer channel ({@link
 * RegionPeers}), and is unwrapped only inside the destination's token. Every step is idempotent, so
 * one that failed anywhere completes when retried.
 */
public final class MultiRegionService implements NewVersionGate, KeyDeletionGate {
  private final RegionTransport hsm;
  private final ReplicaSender sender;
  private final ReplicaReceiver receiver;
  private final PrimaryRegionHandover handover;
  private final ReplicaDeletion deletion;
  private final RegionAnnouncements announcements;

  public MultiRegionService(
      RegionTransport hsm,
      KeyStore store,
      KeyService keys,
      KeyArns arns,
      RegionPeers peers,
      Clock clock) {
    MultiRegionConfigurations configurations = new MultiRegionConfigurations(store, keys, clock);
    this.hsm = hsm;
    this.announcements = new RegionAnnouncements(store, arns, peers);
    this.sender = new ReplicaSender(hsm, store, keys, arns, peers, configurations, announcements);
    this.receiver = new ReplicaReceiver(hsm, store, arns, configurations);
    this.handover =
        new PrimaryRegionHandover(store, keys, arns, peers, configurations, announcements);
    this.deletion = new ReplicaDeletion(store, keys, arns, peers, configurations, announcements);
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
    return sender.replicate(keyId, replicaRegion, policy, tags, description);
  }

  /**
   * On the destination: unwraps every version inside the token (re-wrapped under this region's
   * domain key) and stores the replica whole, or, when it is here already, the versions it lacks.
   *
   * @param fromRegion the authenticated peer region that sent it
   */
  public RegionPeers.Received receive(String fromRegion, RegionPeers.Replica replica) {
    return receiver.receive(fromRegion, replica);
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
    sender.sendNewVersion(keyId, versionId, versionNumber, createdAt, backingKey);
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
   * and the call is DependencyTimeoutException: calling it again completes the hand-over, as do the
   * new primary's first rotation and its next announcement pass reaching this region. Another
   * replica's region that cannot be reached is told at the next pass ({@link #tellPendingRegions}),
   * or when the call is made again here (now in a replica's region, naming the new primary).
   *
   * @param primaryRegion the region of the replica that becomes the primary
   */
  public void updatePrimaryRegion(String keyId, String primaryRegion) {
    handover.updatePrimaryRegion(keyId, primaryRegion);
  }

  /**
   * On a replica's region: the key's primary region or its replicas change. In the region named as
   * the new primary, its replica takes the role (from the current primary only, while it is Enabled
   * and this region is peered with every other region of the key); in any other, the configuration
   * is recorded, from the primary this region knows (or from the region this one is handing the
   * primary role to, which completes the hand-over here). Idempotent.
   *
   * @param fromRegion the authenticated peer region that sent it
   */
  public void acceptPrimaryChange(String fromRegion, RegionPeers.PrimaryChange change) {
    handover.acceptPrimaryChange(fromRegion, change);
  }

  /**
   * On the primary's region: the replica in {@code fromRegion} is being deleted for good. It is no
   * longer counted; a primary in PendingReplicaDeletion whose last replica it was becomes
   * PendingDeletion (its waiting period starts now), and the other replicas' regions learn the new
   * list (at once, or at the next pass when they cannot be reached). Idempotent.
   *
   * @param fromRegion the authenticated peer region that sent it
   */
  public void replicaDeleted(String fromRegion, UUID keyId) {
    deletion.replicaDeleted(fromRegion, keyId);
  }

  /**
   * Before a replica here is deleted for good, its primary's region learns of it (which may start
   * the primary's own waiting period); if it cannot be reached, the replica is not deleted yet.
   */
  @Override
  public void beforeDeleting(UUID keyId) {
    deletion.tellPrimary(keyId);
  }

  /**
   * Tells every region that has not confirmed it yet a multi-Region key's primary and replicas as
   * this region knows them (a replica made or deleted, told by the primary's region; a hand-over,
   * by the old primary's). The scheduled work calls it; a region not reached is told at the next
   * pass.
   *
   * @return how many regions confirmed
   */
  public int tellPendingRegions() {
    return announcements.tellPending();
  }

  /** This region's transport key fingerprint (made on first call), for peers to check. */
  public String transportFingerprint() {
    return TokenCalls.call("GetTransportKey", hsm::regionTransportKey).fingerprint();
  }
}
