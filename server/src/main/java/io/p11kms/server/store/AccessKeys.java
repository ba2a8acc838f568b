package io.p11kms.server.store;

import java.util.List;
import java.util.Optional;

/**
 * Access keys (migration 8), in the key store's database. A principal has at most {@value
 * #MAX_ACTIVE} active keys of a scope, enforced by the database whoever writes (two, so that a key
 * can be rotated without a moment with none). Thread-safe; every method throws the unchecked {@link
 * KeyStoreException} when the database fails.
 */
public interface AccessKeys {
  /** Active keys a principal may have per scope. */
  int MAX_ACTIVE = 2;

  /** The access keys in {@code store}'s database. */
  static AccessKeys of(KeyStore store) {
    return store.accessKeys();
  }

  /**
   * Stores a new key, active if {@code key.active()}.
   *
   * @return false (nothing written) when it is active and its principal already has {@value
   *     #MAX_ACTIVE} active keys of its scope
   * @throws KeyAlreadyExistsException when the id is taken
   */
  boolean create(AccessKeyRecord key);

  Optional<AccessKeyRecord> find(String accessKeyId);

  /** Keys in creation order: all, or those of one account, or of one principal of it. */
  List<AccessKeyRecord> list(Optional<String> accountId, Optional<String> principal);

  /**
   * Makes a key active or inactive.
   *
   * @return false (nothing written) when there is no such key, or activating it would give its
   *     principal more than {@value #MAX_ACTIVE} active keys of its scope
   */
  boolean setActive(String accessKeyId, boolean active);

  /** Deletes a key; false if there was none. */
  boolean delete(String accessKeyId);

  /**
   * Replaces a key's EKT (after a re-wrap under another domain key generation), if it still has
   * {@code expectedGeneration}.
   *
   * @return false (nothing written) when the key is gone or was re-wrapped meanwhile
   */
  boolean replaceEkt(String accessKeyId, int expectedGeneration, AccessKeyRecord rewrapped);
}
