package io.p11kms.server.service;

import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.KeyRecord;
import io.p11kms.server.store.MultiRegionKeys;
import java.util.List;

/**
 * DescribeKey's MultiRegionConfiguration: whether this key is the PRIMARY or a REPLICA, and the ARN
 * and region of the primary and of each replica (the same key id, each region's own ARN).
 *
 * @param keyType PRIMARY or REPLICA
 */
public record MultiRegionConfiguration(
    String keyType, RegionKey primaryKey, List<RegionKey> replicaKeys) {

  /** A multi-Region key in one region. */
  public record RegionKey(String arn, String region) {}

  static MultiRegionConfiguration of(
      KeyArns arns, KeyRecord key, MultiRegionKeys.Configuration configuration) {
    return new MultiRegionConfiguration(
        configuration.primaryRegion().equals(arns.region()) ? "PRIMARY" : "REPLICA",
        regionKey(arns, key, configuration.primaryRegion()),
        configuration.replicaRegions().stream().map(r -> regionKey(arns, key, r)).toList());
  }

  private static RegionKey regionKey(KeyArns arns, KeyRecord key, String region) {
    return new RegionKey(arns.keyArnIn(region, key.account(), key.keyId()), region);
  }
}
