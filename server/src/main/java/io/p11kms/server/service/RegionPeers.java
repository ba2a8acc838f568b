package io.p11kms.server.service;

import io.p11kms.hsm.RegionWrappedKey;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The other regions this one is peered with, reached over an authenticated channel (mutual TLS
 * between the two servers' region identities). What travels is a key's metadata and its versions
 * wrapped under the destination token's transport key; nothing a channel could open.
 */
public interface RegionPeers {

  /** A peer region's answer to a replica sent. */
  record Received(boolean created, int versionsAdded) {}

  /** One key version on its way to another region. */
  record Version(UUID versionId, int versionNumber, Instant createdAt, RegionWrappedKey wrapped) {}

  /** A multi-Region key as sent to a peer region: enough to make or extend its replica there. */
  record Replica(
      UUID keyId,
      String sourceRegion,
      String primaryRegion,
      List<String> replicaRegions,
      String description,
      String keyUsage,
      String keySpec,
      Instant creationDate,
      String account,
      String policy,
      Map<String, String> tags,
      List<Version> versions) {}

  /**
   * A multi-Region key's new primary region, as the old primary tells its replicas' regions.
   *
   * @param replicaRegions the replicas' regions once {@code primaryRegion} has the role
   * @param rotationPeriodDays the primary's automatic rotation, which the new primary takes over;
   *     null while it is off
   * @param nextRotation its next automatic rotation; null while it is off
   */
  record PrimaryChange(
      UUID keyId,
      String primaryRegion,
      List<String> replicaRegions,
      Integer rotationPeriodDays,
      Instant nextRotation) {}

  /** The regions configured as peers. */
  Set<String> regions();

  /** The fingerprint of {@code region}'s transport key, as its server reports it. */
  String transportFingerprint(String region);

  /**
   * Sends {@code replica} to {@code region} and returns once that region has stored it.
   *
   * @throws KmsException DEPENDENCY_TIMEOUT (retry) when the region cannot be reached or fails
   */
  Received send(String region, Replica replica);

  /**
   * Tells {@code region} that the key's primary region changes: the region named as the new primary
   * takes the role, any other records it. Returns once that region has stored it.
   *
   * @throws KmsException DEPENDENCY_TIMEOUT when the region cannot be reached or fails (it may or
   *     may not have stored it); the region's own error when it refused
   */
  void updatePrimary(String region, PrimaryChange change);

  /**
   * Tells {@code region}, the key's primary's, that this region deletes its replica now.
   *
   * @throws KmsException as {@link #updatePrimary}
   */
  void replicaDeleted(String region, UUID keyId);

  /** No peers: a region on its own. */
  RegionPeers NONE =
      new RegionPeers() {
        @Override
        public Set<String> regions() {
          return Set.of();
        }

        @Override
        public String transportFingerprint(String region) {
          throw KmsException.validation("region " + region + " is not a peer of this region");
        }

        @Override
        public Received send(String region, Replica replica) {
          throw KmsException.validation("region " + region + " is not a peer of this region");
        }

        @Override
        public void updatePrimary(String region, PrimaryChange change) {
          throw KmsException.validation("region " + region + " is not a peer of this region");
        }

        @Override
        public void replicaDeleted(String region, UUID keyId) {
          throw KmsException.validation("region " + region + " is not a peer of this region");
        }
      };
}
