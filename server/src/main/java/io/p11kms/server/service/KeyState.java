package io.p11kms.server.service;

/** The life-cycle state of a key, as AWS KMS names it. Stored by name. */
public enum KeyState {
  ENABLED,
  DISABLED,
  PENDING_DELETION,
  /** An EXTERNAL key without key material: before its first import, or after it was deleted. */
  PENDING_IMPORT
}
