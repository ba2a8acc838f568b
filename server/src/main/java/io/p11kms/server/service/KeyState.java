package io.p11kms.server.service;

/** The life-cycle state of a key, as AWS KMS names it. Stored by name. */
public enum KeyState {
  ENABLED,
  DISABLED,
  PENDING_DELETION,
  /** An EXTERNAL key without key material: before its first import, or after it was deleted. */
  PENDING_IMPORT,
  /**
   * A multi-Region primary scheduled for deletion while it has replicas: its waiting period starts
   * when the last replica is deleted.
   */
  PENDING_REPLICA_DELETION,
  /**
   * A multi-Region primary whose role is being handed to a replica (UpdatePrimaryRegion): usable
   * for cryptography, but it neither rotates nor replicates until the hand-over completes. Shown,
   * never stored: the stored state stays Enabled.
   */
  UPDATING
}
