package io.p11kms.server.service;

import io.p11kms.server.store.KeyRecord;

/**
 * Which key states allow which management operation, and where a state change leads, as AWS KMS has
 * it. Every refusal is a {@code KMSInvalidStateException}. (The cryptographic operations' rule,
 * Disabled -> DisabledException, is {@link KeyService#requireUsable}.)
 *
 * <pre>
 *                     Enabled    Disabled   PendingDeletion
 * EnableKey           Enabled    Enabled    refused
 * DisableKey          Disabled   Disabled   refused
 * ScheduleKeyDeletion Pending    Pending    refused
 * CancelKeyDeletion   refused    refused    Disabled
 * UpdateKeyDescription, TagResource, UntagResource,
 * CreateAlias/UpdateAlias (target)          refused when PendingDeletion
 * DescribeKey, ListResourceTags, ListAliases, DeleteAlias: any state
 * </pre>
 */
final class KeyStates {
  private KeyStates() {}

  static KeyState state(KeyRecord key) {
    return KeyState.valueOf(key.keyState());
  }

  /** The state EnableKey leaves the key in. */
  static KeyState afterEnable(KeyRecord key) {
    requireNotPendingDeletion(key, "EnableKey");
    return KeyState.ENABLED;
  }

  /** The state DisableKey leaves the key in. */
  static KeyState afterDisable(KeyRecord key) {
    requireNotPendingDeletion(key, "DisableKey");
    return KeyState.DISABLED;
  }

  /** The state ScheduleKeyDeletion leaves the key in. */
  static KeyState afterScheduleDeletion(KeyRecord key) {
    requireNotPendingDeletion(key, "ScheduleKeyDeletion");
    return KeyState.PENDING_DELETION;
  }

  /** The state CancelKeyDeletion leaves the key in: Disabled, as AWS KMS. */
  static KeyState afterCancelDeletion(KeyRecord key) {
    if (state(key) != KeyState.PENDING_DELETION) {
      throw new KmsException(
          KmsError.INVALID_STATE,
          "CancelKeyDeletion: key '"
              + key.keyId()
              + "' is "
              + state(key)
              + ", not pending deletion");
    }
    return KeyState.DISABLED;
  }

  /** For the operations that change an Enabled or Disabled key only. */
  static KeyRecord requireNotPendingDeletion(KeyRecord key, String operation) {
    if (state(key) == KeyState.PENDING_DELETION) {
      throw new KmsException(
          KmsError.INVALID_STATE, operation + ": key '" + key.keyId() + "' is pending deletion");
    }
    return key;
  }
}
