package io.p11kms.server.store;

import static io.p11kms.server.store.KeyRows.KEY_COLUMNS;
import static io.p11kms.server.store.KeyRows.VERSION_COLUMNS;
import static io.p11kms.server.store.SqlValues.requireId;
import static io.p11kms.server.store.SqlValues.setNullableInt;
import static io.p11kms.server.store.SqlValues.setNullableMicros;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Keys and their versions: creation (key, first version and tags in one transaction), reads,
 * listing, and the compare-and-set changes of a key's state and description.
 */
final class KeyRepository {
  private final Transactions tx;

  KeyRepository(Transactions tx) {
    this.tx = tx;
  }

  /** See {@link KeyStore#createKey(KeyRecord, KeyVersionRecord, Map)}. */
  void createKey(KeyRecord key, KeyVersionRecord firstVersion, Map<String, String> tags) {
    createKey(key, firstVersion, tags, null);
  }

  /** As above, with {@code alias} (when not null) in the same transaction. */
  void createKey(
      KeyRecord key, KeyVersionRecord firstVersion, Map<String, String> tags, AliasRecord alias) {
    if (key == null || firstVersion == null) {
      throw new IllegalArgumentException("key and first version are required");
    }
    if (!firstVersion.keyId().equals(key.keyId())) {
      throw new IllegalArgumentException("first version belongs to another key");
    }
    if (firstVersion.versionNumber() != 1) {
      throw new IllegalArgumentException(
          "first version number must be 1, was " + firstVersion.versionNumber());
    }
    insertKey(key, firstVersion, tags, alias);
  }

  /** See {@link KeyStore#createKeyAwaitingMaterial}. */
  void createKeyAwaitingMaterial(KeyRecord key, Map<String, String> tags) {
    if (key == null) {
      throw new IllegalArgumentException("key is required");
    }
    insertKey(key, null, tags, null);
  }

  private void insertKey(
      KeyRecord key, KeyVersionRecord firstVersion, Map<String, String> tags, AliasRecord alias) {
    Map<String, String> checkedTags = tags == null ? Map.of() : tags;
    tx.inWriteTransaction(
        "cannot store the key",
        c -> {
          KeyRows.insertKey(c, key);
          if (firstVersion != null) {
            KeyRows.insertVersion(c, firstVersion);
          }
          for (Map.Entry<String, String> tag : checkedTags.entrySet()) {
            TagRepository.putTag(c, key.keyId(), tag.getKey(), tag.getValue());
          }
          if (alias != null) {
            AliasRepository.insert(c, alias);
          }
          return null;
        });
  }

  Optional<KeyRecord> findKey(UUID keyId) {
    requireId(keyId);
    return tx.query(
        "cannot read the key",
        "SELECT " + KEY_COLUMNS + " FROM keys WHERE key_id = ?",
        p -> {
          p.setString(1, keyId.toString());
          try (ResultSet rs = p.executeQuery()) {
            return rs.next() ? Optional.of(KeyRows.key(rs)) : Optional.<KeyRecord>empty();
          }
        });
  }

  Optional<KeyVersionRecord> findVersion(UUID keyId, UUID versionId) {
    requireId(keyId);
    requireId(versionId);
    return findOneVersion(
        "SELECT " + VERSION_COLUMNS + " FROM key_versions WHERE key_id = ? AND version_id = ?",
        keyId.toString(),
        versionId.toString());
  }

  Optional<KeyVersionRecord> findLatestVersion(UUID keyId) {
    requireId(keyId);
    return findOneVersion(
        "SELECT "
            + VERSION_COLUMNS
            + " FROM key_versions WHERE key_id = ? AND version_number ="
            + " (SELECT MAX(version_number) FROM key_versions WHERE key_id = ?)",
        keyId.toString(),
        keyId.toString());
  }

  private Optional<KeyVersionRecord> findOneVersion(String sql, String first, String second) {
    return tx.read(
        "cannot read the key version",
        c -> {
          try (PreparedStatement p = c.prepareStatement(sql)) {
            p.setString(1, first);
            p.setString(2, second);
            try (ResultSet rs = p.executeQuery()) {
              return rs.next()
                  ? Optional.of(KeyRows.version(rs))
                  : Optional.<KeyVersionRecord>empty();
            }
          }
        });
  }

  KeyPage listKeys(int limit, Optional<String> marker) {
    return listKeys(null, limit, marker);
  }

  /** As {@link #listKeys(int, Optional)}, only the keys of {@code account} (null: all keys). */
  KeyPage listKeys(String account, int limit, Optional<String> marker) {
    PageMarkers.checkLimit(limit);
    long after = PageMarkers.after(marker);
    Page<KeyRecord> page =
        tx.read(
            "cannot list keys",
            c -> {
              try (PreparedStatement p =
                  c.prepareStatement(
                      "SELECT "
                          + KEY_COLUMNS
                          + " FROM keys WHERE seq > ?"
                          + (account == null ? "" : " AND account = ?")
                          + " ORDER BY seq "
                          + tx.dialect().limitParameter())) {
                int i = 1;
                p.setLong(i++, after);
                if (account != null) {
                  p.setString(i++, account);
                }
                p.setInt(i, limit + 1);
                return PageMarkers.bySequence(p, limit, KeyRows::key);
              }
            });
    return new KeyPage(page.items(), page.nextMarker());
  }

  long countKeys() {
    return tx.read(
        "cannot count keys",
        c -> {
          try (Statement s = c.createStatement();
              ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM keys")) {
            rs.next();
            return rs.getLong(1);
          }
        });
  }

  boolean updateKeyState(
      UUID keyId,
      String expectedState,
      String newState,
      Instant deletionDate,
      Integer pendingWindowDays) {
    requireId(keyId);
    KeyRecord.requireNonNull(expectedState, "expected state");
    KeyRecord.requireNonNull(newState, "new state");
    return tx.inWriteTransaction(
        "cannot change the key's state",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "UPDATE keys SET key_state = ?, deletion_date = ?, pending_window_days = ?"
                      + " WHERE key_id = ? AND key_state = ?")) {
            p.setString(1, newState);
            setNullableMicros(p, 2, deletionDate);
            setNullableInt(p, 3, pendingWindowDays);
            p.setString(4, keyId.toString());
            p.setString(5, expectedState);
            return p.executeUpdate() == 1;
          }
        });
  }

  boolean updateDescription(UUID keyId, String expectedState, String description) {
    requireId(keyId);
    KeyRecord.requireNonNull(description, "description");
    return tx.inWriteTransaction(
        "cannot change the key's description",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "UPDATE keys SET description = ? WHERE key_id = ? AND key_state = ?")) {
            p.setString(1, description);
            p.setString(2, keyId.toString());
            p.setString(3, expectedState);
            return p.executeUpdate() == 1;
          }
        });
  }
}
