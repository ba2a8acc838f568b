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
      };
}
