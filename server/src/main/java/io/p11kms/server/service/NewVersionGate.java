package io.p11kms.server.service;

import io.p11kms.hsm.WrappedKey;
import java.time.Instant;
import java.util.UUID;

/**
 * What must happen before a rotation stores a key's new version, after which Encrypt uses it: for a
 * multi-Region primary, every replica has it ({@link MultiRegionService}), so that no region
 * encrypts under a version another cannot decrypt with. A failure here stores nothing.
 */
@FunctionalInterface
public interface NewVersionGate {
  void beforeStoring(
      UUID keyId, UUID versionId, int versionNumber, Instant createdAt, WrappedKey backingKey);

  /** Nothing to wait for: a region with no peers. */
  NewVersionGate NONE = (keyId, versionId, versionNumber, createdAt, backingKey) -> {};
}
