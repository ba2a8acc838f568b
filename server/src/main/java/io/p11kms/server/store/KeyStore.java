package io.p11kms.server.store;

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
  void createKey(KeyRecord key, KeyVersionRecord firstVersion);

  Optional<KeyRecord> findKey(UUID keyId);

  Optional<KeyVersionRecord> findVersion(UUID keyId, UUID versionId);

  /** The version with the highest version number. */
  Optional<KeyVersionRecord> findLatestVersion(UUID keyId);

  /**
   * Keys in creation order, at most {@code limit} of them, starting after {@code marker}. Pages are
   * stable while keys are created: a key created during a listing shows up on a later page.
   *
   * @param limit 1 to {@value JdbcKeyStore#MAX_PAGE_SIZE}
   * @param marker empty for the first page, otherwise a {@link KeyPage#nextMarker()} from before
   * @throws IllegalArgumentException if the limit is out of range or the marker is malformed
   */
  KeyPage listKeys(int limit, Optional<String> marker);

  long countKeys();

  /** Closes the database connections. Calls after close throw {@link KeyStoreException}. */
  @Override
  void close();
}
