package io.p11kms.server.service;

import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.MultiRegionKeys;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;

/**
 * A multi-Region key's configuration in this region (its primary's region, its replicas' regions, a
 * pending hand-over of the primary role): read with the errors the operations answer, and recorded
 * as a replica's.
 */
final class MultiRegionConfigurations {
  private final KeyStore store;
  private final KeyService keys;
  private final Clock clock;

  MultiRegionConfigurations(KeyStore store, KeyService keys, Clock clock) {
    this.store = store;
    this.keys = keys;
    this.clock = clock;
  }

  /** The configuration of the existing key {@code id}; UnsupportedOperation if single-Region. */
  MultiRegionKeys.Configuration requireFor(UUID id, String operation) {
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

  /** The configuration of {@code id}, as a peer region names it; NotFound if it has none here. */
  MultiRegionKeys.Configuration requireKnown(UUID id) {
    return store
        .multiRegionKeys()
        .find(id)
        .orElseThrow(
            () -> KmsException.notFound(KeyArns.keyIdText(id) + " is not a multi-Region key"));
  }

  /** While the primary role is being handed over, the key neither rotates nor replicates. */
  static void requireNotUpdating(
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

  /**
   * Records {@code configuration} here, a replica's: no hand-over pending, no rotation. A region
   * that was the primary is to tell the other replicas' regions of the new primary.
   */
  void becomeReplica(UUID id, MultiRegionKeys.Configuration configuration) {
    String self = keys.arns().region();
    boolean wasPrimary =
        store.multiRegionKeys().find(id).filter(c -> c.primaryRegion().equals(self)).isPresent();
    List<String> tell =
        wasPrimary
            ? configuration.replicaRegions().stream().filter(r -> !r.equals(self)).toList()
            : List.of();
    store.multiRegionKeys().changePrimary(id, configuration, null, null, tell, now());
  }

  /** The time a change is recorded at, as the store keeps it. */
  Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MICROS);
  }
}
