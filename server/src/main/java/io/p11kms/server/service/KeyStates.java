package io.p11kms.server.service;

import io.p11kms.server.store.KeyRecord;

/**
 * Which key states allow which management operation, and where a state change leads, as AWS KMS has
 * it. Every refusal is a {@code KMSInvalidStateException}. (The cryptographic operations' rule,
 * Disabled -> DisabledException, is {@link #requireUsable}.)
 *
 * <pre>
 *                     Enabled    Disabled   PendingDeletion   PendingImport
 * EnableKey           Enabled    Enabled    refused           refused
 * DisableKey          Disabled   Disabled   refused           refused
 * ScheduleKeyDeletion Pending    Pending    refused           Pending
 * CancelKeyDeletion   refused    refused    Disabled, or PendingImport without material
 * UpdateKeyDescription, TagResource, UntagResource,
 * CreateAlias/UpdateAlias (target)          refused when PendingDeletion
 * DescribeKey, ListResourceTags, ListAliases, DeleteAlias: any state
 * </pre>
 *
 * <p>A multi-Region primary that has replicas is scheduled into PendingReplicaDeletion instead of
 * PendingDeletion (its waiting period starts when its last replica is deleted); everywhere above,
 * PendingReplicaDeletion is refused and cancelled as PendingDeletion is.
 */
final class KeyStates {
  private KeyStates() {}

  static KeyState state(KeyRecord key) {
    return KeyState.valueOf(key.keyState());
  }

  /** The state EnableKey leaves the key in. */
  static KeyState afterEnable(KeyRecord key) {
    requireNotPendingImport(requireNotPendingDeletion(key, "EnableKey"), "EnableKey");
    return KeyState.ENABLED;
  }

  /** The state DisableKey leaves the key in. */
  static KeyState afterDisable(KeyRecord key) {
    requireNotPendingImport(requireNotPendingDeletion(key, "DisableKey"), "DisableKey");
    return KeyState.DISABLED;
  }

  /**
   * The state ScheduleKeyDeletion leaves the key in.
   *
   * @param hasReplicas whether the key is a multi-Region primary with replicas
   */
  static KeyState afterScheduleDeletion(KeyRecord key, boolean hasReplicas) {
    requireNotPendingDeletion(key, "ScheduleKeyDeletion");
    return hasReplicas ? KeyState.PENDING_REPLICA_DELETION : KeyState.PENDING_DELETION;
  }

  /** PendingDeletion, or PendingReplicaDeletion. */
  static boolean pendingDeletion(KeyRecord key) {
    KeyState state = state(key);
    return state == KeyState.PENDING_DELETION || state == KeyState.PENDING_REPLICA_DELETION;
  }

  /**
   * The state CancelKeyDeletion leaves the key in, as AWS KMS: Disabled, or PendingImport for a key
   * without key material.
   */
  static KeyState afterCancelDeletion(KeyRecord key, boolean hasMaterial) {
    if (!pendingDeletion(key)) {
      throw new KmsException(
          KmsError.INVALID_STATE,
          "CancelKeyDeletion: key '"
              + key.keyId()
              + "' is "
              + state(key)
              + ", not pending deletion");
    }
    return hasMaterial ? KeyState.DISABLED : KeyState.PENDING_IMPORT;
  }

  /** For the operations that need a key with key material. */
  static KeyRecord requireNotPendingImport(KeyRecord key, String operation) {
    if (state(key) == KeyState.PENDING_IMPORT) {
      throw new KmsException(
          KmsError.INVALID_STATE,
          operation + ": key '" + key.keyId() + "' has no key material (PendingImport)");
    }
    return key;
  }

  /** For the operations that change an Enabled or Disabled key only. */
  static KeyRecord requireNotPendingDeletion(KeyRecord key, String operation) {
    if (pendingDeletion(key)) {
      throw new KmsException(
          KmsError.INVALID_STATE, operation + ": key '" + key.keyId() + "' is pending deletion");
    }
    return key;
  }

  /**
   * The key, for a symmetric cryptographic operation: enabled, a SYMMETRIC_DEFAULT ENCRYPT_DECRYPT
   * key.
   */
  static KeyRecord requireUsable(KeyRecord key) {
    requireEnabled(key);
    if (KeyUsage.valueOf(key.keyUsage()) != KeyUsage.ENCRYPT_DECRYPT
        || !KeySpec.valueOf(key.keySpec()).isSymmetric()) {
      throw new KmsException(
          KmsError.INVALID_KEY_USAGE,
          "Key '" + key.keyId() + "' is not a SYMMETRIC_DEFAULT ENCRYPT_DECRYPT key");
    }
    return key;
  }

  /** DisabledException when disabled, KMSInvalidStateException when pending deletion. */
  static KeyRecord requireEnabled(KeyRecord key) {
    KeyState state = KeyState.valueOf(key.keyState());
    if (state == KeyState.DISABLED) {
      throw new KmsException(KmsError.DISABLED, "Key '" + key.keyId() + "' is disabled");
    }
    if (state != KeyState.ENABLED) {
      throw new KmsException(
          KmsError.INVALID_STATE, "Key '" + key.keyId() + "' is " + state.name());
    }
    return key;
  }
}
