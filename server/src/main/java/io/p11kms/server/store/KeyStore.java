package io.p11kms.server.store;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Key metadata and EKTs, kept in a database. Implementations are thread-safe. Every method throws
 * the unchecked {@link KeyStoreException} when the database fails; a message never carries stored
 * data.
 */
public interface KeyStore extends AutoCloseable {

  /**
   * Stores a new key and its first version in one transaction: both are stored or neither is.
   *
   * @throws IllegalArgumentException if the version belongs to another key or is not version 1
   * @throws KeyAlreadyExistsException if the key id or version id is already stored
   */
  default void createKey(KeyRecord key, KeyVersionRecord firstVersion) {
    createKey(key, firstVersion, Map.of());
  }

  /**
   * Stores a new key, its first version and its tags in one transaction.
   *
   * @throws IllegalArgumentException if the version belongs to another key or is not version 1
   * @throws KeyAlreadyExistsException if the key id or version id is already stored
   */
  void createKey(KeyRecord key, KeyVersionRecord firstVersion, Map<String, String> tags);

  /**
   * Stores a new key without key material (an EXTERNAL key awaiting its import) and its tags in one
   * transaction.
   *
   * @throws KeyAlreadyExistsException if the key id is already stored
   */
  void createKeyAwaitingMaterial(KeyRecord key, Map<String, String> tags);

  /**
   * Stores a new key, its first version and an alias of its account for it, in one transaction.
   *
   * @throws AliasAlreadyExistsException if the account has that alias already (nothing stored)
   * @throws KeyAlreadyExistsException if the key id or version id is already stored
   */
  void createKeyWithAlias(KeyRecord key, KeyVersionRecord firstVersion, AliasRecord alias);

  Optional<KeyRecord> findKey(UUID keyId);

  Optional<KeyVersionRecord> findVersion(UUID keyId, UUID versionId);

  /** The version with the highest version number. */
  Optional<KeyVersionRecord> findLatestVersion(UUID keyId);

  /**
   * The key, its version {@code versionId} (its latest version when null) and its key policy, in
   * one read: what an Encrypt or Decrypt needs, so that a request reads the store once. Empty when
   * the key does not exist.
   */
  Optional<KeyInUse> findKeyInUse(UUID keyId, UUID versionId);

  /**
   * Keys in creation order, at most {@code limit} of them, starting after {@code marker}. Pages are
   * stable while keys are created: a key created during a listing shows up on a later page.
   *
   * @param limit 1 to {@value JdbcKeyStore#MAX_PAGE_SIZE}
   * @param marker empty for the first page, otherwise a {@link KeyPage#nextMarker()} from before
   * @throws IllegalArgumentException if the limit is out of range or the marker is malformed
   */
  KeyPage listKeys(int limit, Optional<String> marker);

  /**
   * As {@link #listKeys(int, Optional)}, only the keys of {@code account} ({@link
   * KeyRecord#DEFAULT_ACCOUNT} for the default account).
   */
  KeyPage listKeys(String account, int limit, Optional<String> marker);

  long countKeys();

  // Key states. Every change is a compare-and-set on the key's state: a writer that lost a race
  // gets false and nothing is written, so concurrent changes never overwrite each other.

  /**
   * Sets a key's state, deletion date and deletion window if, and only if, the key is in {@code
   * expectedState}.
   *
   * @return false (nothing written) if the key does not exist or is no longer in that state
   */
  boolean updateKeyState(
      UUID keyId,
      String expectedState,
      String newState,
      Instant deletionDate,
      Integer pendingWindowDays);

  /**
   * Sets a key's description if the key is in {@code expectedState}.
   *
   * @return false (nothing written) if the key does not exist or is no longer in that state
   */
  boolean updateDescription(UUID keyId, String expectedState, String description);

  // Aliases. Names are unique per account by a database constraint; an alias is in its key's
  // account ({@link KeyRecord#DEFAULT_ACCOUNT} for the default account). The methods without an
  // account are those of the default account.

  /**
   * Stores an alias if its key is in {@code expectedKeyState}.
   *
   * @return false (nothing written) if the key does not exist or is no longer in that state
   * @throws AliasAlreadyExistsException if the name is taken
   */
  boolean createAlias(AliasRecord alias, String expectedKeyState);

  default Optional<AliasRecord> findAlias(String aliasName) {
    return findAlias(KeyRecord.DEFAULT_ACCOUNT, aliasName);
  }

  Optional<AliasRecord> findAlias(String account, String aliasName);

  /**
   * Points an existing alias at {@code keyId} if that key is in {@code expectedKeyState}.
   *
   * @return false (nothing written) if the alias does not exist, or the key does not exist or is no
   *     longer in that state
   */
  default boolean updateAlias(
      String aliasName, UUID keyId, String expectedKeyState, Instant updatedAt) {
    return updateAlias(KeyRecord.DEFAULT_ACCOUNT, aliasName, keyId, expectedKeyState, updatedAt);
  }

  /** As {@link #updateAlias(String, UUID, String, Instant)}, for an alias of {@code account}. */
  boolean updateAlias(
      String account, String aliasName, UUID keyId, String expectedKeyState, Instant updatedAt);

  /** Deletes an alias; false if there was none. */
  default boolean deleteAlias(String aliasName) {
    return deleteAlias(KeyRecord.DEFAULT_ACCOUNT, aliasName);
  }

  /** Deletes an alias of {@code account}; false if there was none. */
  boolean deleteAlias(String account, String aliasName);

  /**
   * Aliases in creation order, all or one key's, at most {@code limit}, starting after {@code
   * marker} (a {@link Page#nextMarker()} of an earlier page).
   *
   * @throws IllegalArgumentException if the limit is below 1 or the marker is malformed
   */
  default Page<AliasRecord> listAliases(Optional<UUID> keyId, int limit, Optional<String> marker) {
    return listAliases(KeyRecord.DEFAULT_ACCOUNT, keyId, limit, marker);
  }

  /** As {@link #listAliases(Optional, int, Optional)}, the aliases of {@code account}. */
  Page<AliasRecord> listAliases(
      String account, Optional<UUID> keyId, int limit, Optional<String> marker);

  // Accounts (the default account has no record).

  /**
   * Stores a new account.
   *
   * @throws KeyAlreadyExistsException when its id or name is taken
   */
  void createAccount(AccountRecord account);

  Optional<AccountRecord> findAccount(String accountId);

  /** Every account, by id. */
  List<AccountRecord> listAccounts();

  /** Sets the accounts whose keys {@code accountId}'s principals may use; false: no account. */
  boolean setKeyAccounts(String accountId, List<String> keyAccounts);

  // Registered services.

  /**
   * Registers a service.
   *
   * @throws KeyAlreadyExistsException when its name is taken
   */
  void registerService(ServiceRecord service);

  /** Every registered service, by name. */
  List<ServiceRecord> listServices();

  // Tags.

  /**
   * Adds tags to a key, overwriting the values of tag keys it has, if the key is in {@code
   * expectedKeyState}.
   *
   * @return false (nothing written) if the key does not exist or is no longer in that state
   * @throws TagLimitExceededException if the key would have more than {@code maxTags} tags
   */
  boolean tagKey(UUID keyId, String expectedKeyState, Map<String, String> tags, int maxTags);

  /**
   * Removes the named tags from a key (absent ones are ignored) if the key is in {@code
   * expectedKeyState}.
   *
   * @return false (nothing written) if the key does not exist or is no longer in that state
   */
  boolean untagKey(UUID keyId, String expectedKeyState, Collection<String> tagKeys);

  /**
   * A key's tags in tag-key order, at most {@code limit}, starting after {@code marker}.
   *
   * @throws IllegalArgumentException if the limit is below 1 or the marker is malformed
   */
  Page<TagRecord> listTags(UUID keyId, int limit, Optional<String> marker);

  // Deletion.

  /**
   * Ids of keys pending deletion whose deletion date is at or before {@code now}, at most limit.
   */
  List<UUID> findKeysDueForDeletion(Instant now, int limit);

  /**
   * Deletes a key for good if it is pending deletion and its deletion date is at or before {@code
   * now}: its versions (EKTs), aliases, tags and metadata go in one transaction, and a tombstone
   * (key id and {@code now}, nothing else) stays.
   *
   * @return false (nothing written) if the key does not exist, is not pending deletion, or is not
   *     due
   */
  boolean deleteKey(UUID keyId, Instant now);

  /** When a key was deleted for good, if it was. */
  Optional<Instant> findDeletedKey(UUID keyId);

  // Rotation of backing keys. Changes are compare-and-sets on the key's state (and, for automatic
  // rotations, on its next rotation date), as above.

  /** The key's automatic rotation settings; empty if the key does not exist. */
  Optional<RotationSchedule> findRotationSchedule(UUID keyId);

  /**
   * Sets (period and date given) or clears (both null) the key's automatic rotation if the key is
   * in {@code expectedKeyState}.
   *
   * @return false (nothing written) if the key does not exist or is no longer in that state
   */
  boolean setRotationSchedule(
      UUID keyId, String expectedKeyState, Integer periodDays, Instant nextRotationDate);

  /**
   * Stores a rotation in one transaction: the key's next version (number one above its highest),
   * holding the given EKT, and the history row. Only if the key is in {@code expectedKeyState} and,
   * when {@code expectedNextRotation} is not null, its next rotation date is exactly that; the next
   * rotation date becomes {@code newNextRotation} when that is not null.
   *
   * @return the stored version, or empty (nothing written) when a condition did not hold
   */
  Optional<KeyVersionRecord> addRotation(
      RotationRecord rotation,
      String expectedKeyState,
      Instant expectedNextRotation,
      Instant newNextRotation,
      int domainKeyGeneration,
      int wrapMechanismCode,
      byte[] ekt);

  /** Ids of Enabled keys whose next automatic rotation is at or before {@code now}. */
  List<UUID> findKeysDueForRotation(Instant now, int limit);

  /** A key's rotations, oldest first, at most {@code limit}, starting after {@code marker}. */
  Page<RotationRecord> listRotations(UUID keyId, int limit, Optional<String> marker);

  // Domain-key rotation: moving EKTs from older domain-key generations to a newer one.

  /** At most {@code limit} versions whose EKT is under a generation below {@code generation}. */
  default List<KeyVersionRecord> findVersionsBelowGeneration(int generation, int limit) {
    return findVersionsBelowGeneration(generation, null, limit);
  }

  /**
   * As {@link #findVersionsBelowGeneration(int, int)}, in version id order, only versions after
   * {@code afterVersionId} (null: from the first).
   */
  List<KeyVersionRecord> findVersionsBelowGeneration(
      int generation, UUID afterVersionId, int limit);

  /**
   * Replaces the EKTs of the given versions in one transaction, each only if its row still names
   * the generation the record names (a compare-and-set: a row changed meanwhile is left alone).
   *
   * @param rewrapped pairs of (the version as read, the same version re-wrapped)
   * @return how many rows were replaced
   */
  int replaceEkts(List<Map.Entry<KeyVersionRecord, KeyVersionRecord>> rewrapped);

  /** How many stored versions each domain-key generation wraps. */
  Map<Integer, Long> countVersionsByGeneration();

  /** Records that no EKT refers to {@code generation} any more; false if already recorded. */
  boolean retireDomainKey(int generation, Instant at);

  /** The generations recorded as retired, ascending. */
  List<Integer> retiredDomainKeys();

  // Imported key material of EXTERNAL keys.

  /** The key's imported material record; empty before its first import. */
  Optional<ImportedMaterial> findImportedMaterial(UUID keyId);

  /**
   * Stores an import in one transaction, only if the key is in {@code expectedState}: the key's
   * state becomes {@code newState}, its material record becomes {@code material}, and {@code
   * versionOrNull} (the material's EKT, when the key has none now) is added.
   *
   * @return false (nothing written) if the key does not exist or is no longer in that state
   * @throws IllegalArgumentException if the version is not the material's
   */
  boolean storeImportedMaterial(
      ImportedMaterial material,
      String expectedState,
      String newState,
      KeyVersionRecord versionOrNull);

  /**
   * Deletes a key's material in one transaction, only if the key is in {@code expectedState} and,
   * when {@code expectedValidTo} is not null, its material still expires then: its versions (EKTs)
   * go, its material record keeps only the version id and check value, its state becomes {@code
   * newState}.
   *
   * @return false (nothing written) when a condition did not hold
   */
  boolean deleteImportedMaterial(
      UUID keyId, String expectedState, String newState, Instant expectedValidTo);

  /** Ids of keys whose imported material expires at or before {@code now}, at most limit. */
  List<UUID> findKeysWithMaterialExpiring(Instant now, int limit);

  /** The key policies and grants in this store's database. */
  AccessStore access();

  /** The leases for scheduled work in this store's database. */
  Leases leases();

  /** The keys exposed to the external key store (XKS) proxy API, in this store's database. */
  XksKeys xksKeys();

  /** Multi-Region keys: which region holds the primary, which the replicas. */
  MultiRegionKeys multiRegionKeys();

  /** The access keys (SigV4 credentials) in this store's database. */
  AccessKeys accessKeys();

  /** Closes the database connections. Calls after close throw {@link KeyStoreException}. */
  @Override
  void close();
}
