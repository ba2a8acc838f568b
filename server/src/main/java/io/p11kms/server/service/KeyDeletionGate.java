package io.p11kms.server.service;

import java.util.UUID;

/**
 * What must happen before a key whose waiting period is over is deleted for good: a multi-Region
 * replica's primary learns of it first ({@link MultiRegionService}), so that a primary waiting for
 * its replicas is deleted only after the last of them. A failure here deletes nothing; the key is
 * due again at the next pass.
 */
@FunctionalInterface
public interface KeyDeletionGate {
  void beforeDeleting(UUID keyId);

  /** Nothing to wait for: a region with no peers. */
  KeyDeletionGate NONE = keyId -> {};
}
