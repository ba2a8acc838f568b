package io.p11kms.server.store;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Key policies and grants (migration 4), in the key store's database. Thread-safe; every method
 * throws the unchecked {@link KeyStoreException} when the database fails.
 */
public interface AccessStore {

  /** The policies and grants in {@code store}'s database. */
  static AccessStore of(KeyStore store) {
    return store.access();
  }

  /** The key's policy document; empty if it has none. */
  Optional<String> findPolicy(UUID keyId);

  /** Sets the key's policy, in one statement (two servers writing it at once leave one row). */
  void putPolicy(UUID keyId, String policy, Instant now);

  /**
   * Stores a grant.
   *
   * @throws KeyAlreadyExistsException if its id or token is already stored
   */
  void createGrant(GrantRecord grant);

  /** The key's grants, oldest first. */
  List<GrantRecord> grantsOfKey(UUID keyId);

  /** The grants {@code principal} may retire, oldest first. */
  List<GrantRecord> grantsRetirableBy(String principal);

  Optional<GrantRecord> findGrant(String grantId);

  Optional<GrantRecord> findGrantByToken(String token);

  /** Deletes a grant; whether it existed. */
  boolean deleteGrant(String grantId);
}
