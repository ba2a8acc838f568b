package io.p11kms.server.store;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The key store over JDBC, in standard SQL; what differs between databases is in {@link
 * SqlDialect}. Reads run on pooled connections without a lock; writes hold a process-wide lock only
 * where the dialect asks for it (SQLite, which has one writer anyway). Open it with {@link
 * KeyStores#open}, which also creates or migrates the schema.
 */
public final class JdbcKeyStore implements KeyStore {
  /** The largest page {@link #listKeys} returns, as AWS KMS ListKeys. */
  public static final int MAX_PAGE_SIZE = 1000;

  static final Duration BORROW_TIMEOUT = Duration.ofSeconds(30);

  private static final byte MARKER_FORMAT = 1;
  private static final byte TAG_MARKER_FORMAT = 2;
  private static final String PENDING_DELETION = "PENDING_DELETION";
  private static final String KEY_COLUMNS =
      "seq, key_id, creation_date, description, key_usage, key_spec, key_state, origin,"
          + " deletion_date, pending_window_days";
  private static final String ALIAS_COLUMNS = "seq, alias_name, key_id, created_at, updated_at";
  private static final String VERSION_COLUMNS =
      "key_id, version_id, version_number, created_at, domain_key_generation, wrap_mechanism, ekt,"
          + " domain_key_kind, public_key";

  /**
   * The key, a version and the policy in one statement (see {@link #findKeyInUse}): the key's
   * columns, the version's (its key_id is the key's) and the policy; left joins, so a key without
   * that version or without a policy is still found.
   */
  private static final String KEY_IN_USE_SELECT =
      "SELECT k.seq, k.key_id, k.creation_date, k.description, k.key_usage, k.key_spec,"
          + " k.key_state, k.origin, k.deletion_date, k.pending_window_days, v.version_id,"
          + " v.version_number, v.created_at, v.domain_key_generation, v.wrap_mechanism, v.ekt,"
          + " v.domain_key_kind, v.public_key, p.policy FROM keys k LEFT JOIN key_policies p ON p.key_id = k.key_id";

  private static final String KEY_IN_USE_LATEST =
      KEY_IN_USE_SELECT
          + " LEFT JOIN key_versions v ON v.key_id = k.key_id AND v.version_number ="
          + " (SELECT MAX(m.version_number) FROM key_versions m WHERE m.key_id = k.key_id)"
          + " WHERE k.key_id = ?";

  private static final String KEY_IN_USE_VERSION =
      KEY_IN_USE_SELECT
          + " LEFT JOIN key_versions v ON v.key_id = k.key_id AND v.version_id = ?"
          + " WHERE k.key_id = ?";

  private final SqlDialect dialect;
  private final ConnectionPool pool;
  private final ReentrantLock writeLock = new ReentrantLock(true);

  /** Null where the database has no cheap change counter (PostgreSQL): every read is a query. */
  private final KeyInUseCache keysInUse;

  JdbcKeyStore(SqlDialect dialect) {
    this.dialect = dialect;
    this.keysInUse = dialect.changeCounterQuery().isPresent() ? new KeyInUseCache() : null;
    this.pool =
        new ConnectionPool(
            dialect, BORROW_TIMEOUT, keysInUse == null ? c -> {} : keysInUse::forget);
  }

  /** Creates the schema or brings it up to date. Called once, by {@link KeyStores#open}. */
  void migrate() {
    inWriteTransaction(
        "cannot create or migrate the key store schema",
        c -> {
          dialect.lockForMigration(c);
          try (Statement s = c.createStatement()) {
            s.execute(Migrations.CREATE_SCHEMA_VERSION);
          }
          int current = schemaVersion(c);
          if (current > Migrations.latestVersion()) {
            throw new KeyStoreException(
                "the key store schema is version "
                    + current
                    + ", newer than this server knows ("
                    + Migrations.latestVersion()
                    + ")");
          }
          for (Migrations.Migration m : Migrations.ALL) {
            if (m.version() <= current) {
              continue;
            }
            try (Statement s = c.createStatement()) {
              for (String sql : m.statements()) {
                s.execute(Migrations.render(sql, dialect));
              }
            }
            try (PreparedStatement p =
                c.prepareStatement(
                    "INSERT INTO schema_version (version, description, applied_at)"
                        + " VALUES (?, ?, ?)")) {
              p.setInt(1, m.version());
              p.setString(2, m.description());
              p.setLong(3, toMicros(Instant.now()));
              p.executeUpdate();
            }
          }
          return null;
        });
  }

  /** The schema version the database is at; 0 before any migration. */
  int schemaVersion() {
    return read("cannot read the schema version", JdbcKeyStore::schemaVersion);
  }

  private static int schemaVersion(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT MAX(version) FROM schema_version")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  @Override
  public void createKey(KeyRecord key, KeyVersionRecord firstVersion, Map<String, String> tags) {
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
    Map<String, String> checkedTags = tags == null ? Map.of() : tags;
    inWriteTransaction(
        "cannot store the key",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "INSERT INTO keys (key_id, creation_date, description, key_usage, key_spec,"
                      + " key_state, origin, deletion_date, pending_window_days)"
                      + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            p.setString(1, key.keyId().toString());
            p.setLong(2, toMicros(key.creationDate()));
            p.setString(3, key.description());
            p.setString(4, key.keyUsage());
            p.setString(5, key.keySpec());
            p.setString(6, key.keyState());
            p.setString(7, key.origin());
            if (key.deletionDate() == null) {
              p.setNull(8, Types.BIGINT);
            } else {
              p.setLong(8, toMicros(key.deletionDate()));
            }
            setNullableInt(p, 9, key.pendingWindowDays());
            p.executeUpdate();
          }
          insertVersion(c, firstVersion);
          for (Map.Entry<String, String> tag : checkedTags.entrySet()) {
            putTag(c, key.keyId(), tag.getKey(), tag.getValue());
          }
          return null;
        });
  }

  private static void insertVersion(Connection c, KeyVersionRecord v) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement(
            "INSERT INTO key_versions ("
                + VERSION_COLUMNS
                + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
      p.setString(1, v.keyId().toString());
      p.setString(2, v.versionId().toString());
      p.setInt(3, v.versionNumber());
      p.setLong(4, toMicros(v.createdAt()));
      p.setInt(5, v.domainKeyGeneration());
      p.setInt(6, v.wrapMechanismCode());
      p.setBytes(7, v.ekt());
      p.setString(8, v.domainKeyKind().name());
      p.setBytes(9, v.publicKey()); // null for keys without a public key
      p.executeUpdate();
    }
  }

  @Override
  public Optional<KeyRecord> findKey(UUID keyId) {
    requireId(keyId);
    return query(
        "cannot read the key",
        "SELECT " + KEY_COLUMNS + " FROM keys WHERE key_id = ?",
        p -> {
          p.setString(1, keyId.toString());
          try (ResultSet rs = p.executeQuery()) {
            return rs.next() ? Optional.of(key(rs)) : Optional.<KeyRecord>empty();
          }
        });
  }

  @Override
  public Optional<KeyVersionRecord> findVersion(UUID keyId, UUID versionId) {
    requireId(keyId);
    requireId(versionId);
    return findOneVersion(
        "SELECT " + VERSION_COLUMNS + " FROM key_versions WHERE key_id = ? AND version_id = ?",
        keyId.toString(),
        versionId.toString());
  }

  @Override
  public Optional<KeyVersionRecord> findLatestVersion(UUID keyId) {
    requireId(keyId);
    return findOneVersion(
        "SELECT "
            + VERSION_COLUMNS
            + " FROM key_versions WHERE key_id = ? AND version_number ="
            + " (SELECT MAX(version_number) FROM key_versions WHERE key_id = ?)",
        keyId.toString(),
        keyId.toString());
  }

  /**
   * {@inheritDoc}
   *
   * <p>On SQLite, served from {@link KeyInUseCache} while the database has not changed since the
   * answer was read.
   */
  @Override
  public Optional<KeyInUse> findKeyInUse(UUID keyId, UUID versionId) {
    requireId(keyId);
    String sql = versionId == null ? KEY_IN_USE_LATEST : KEY_IN_USE_VERSION;
    return query(
        "cannot read the key",
        sql,
        (c, p) -> {
          long generation = keysInUse == null ? 0 : keysInUse.observe(c, changeCounter(c));
          KeyInUse cached = keysInUse == null ? null : keysInUse.get(keyId, versionId, generation);
          if (cached != null) {
            return Optional.of(cached);
          }
          // The version id is in the join, before the WHERE clause.
          if (versionId == null) {
            p.setString(1, keyId.toString());
          } else {
            p.setString(1, versionId.toString());
            p.setString(2, keyId.toString());
          }
          try (ResultSet rs = p.executeQuery()) {
            if (!rs.next()) {
              return Optional.<KeyInUse>empty();
            }
            KeyInUse found = keyInUse(rs);
            if (keysInUse != null) {
              keysInUse.put(keyId, versionId, generation, found);
            }
            return Optional.of(found);
          }
        });
  }

  /** The database's change counter as {@code c} sees it now (see {@link KeyInUseCache}). */
  private long changeCounter(Connection c) throws SQLException {
    String sql = dialect.changeCounterQuery().orElseThrow();
    PreparedStatement p = pool.prepared(c, sql);
    try (ResultSet rs = p.executeQuery()) {
      if (!rs.next()) {
        throw new SQLException("the change counter query returned no row");
      }
      return rs.getLong(1);
    } catch (SQLException e) {
      // As query() does for its own statement: a statement that failed is not kept.
      pool.discard(c, sql);
      throw e;
    }
  }

  /** How many key reads {@link #findKeyInUse} keeps now (0 where it keeps none). */
  int keysInUseCached() {
    return keysInUse == null ? 0 : keysInUse.size();
  }

  private Optional<KeyVersionRecord> findOneVersion(String sql, String first, String second) {
    return read(
        "cannot read the key version",
        c -> {
          try (PreparedStatement p = c.prepareStatement(sql)) {
            p.setString(1, first);
            p.setString(2, second);
            try (ResultSet rs = p.executeQuery()) {
              return rs.next() ? Optional.of(version(rs)) : Optional.<KeyVersionRecord>empty();
            }
          }
        });
  }

  @Override
  public KeyPage listKeys(int limit, Optional<String> marker) {
    if (limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new IllegalArgumentException("limit must be 1-" + MAX_PAGE_SIZE + ", was " + limit);
    }
    long after = marker == null || marker.isEmpty() ? 0 : decodeMarker(marker.get());
    return read(
        "cannot list keys",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "SELECT "
                      + KEY_COLUMNS
                      + " FROM keys WHERE seq > ? ORDER BY seq "
                      + dialect.limitParameter())) {
            p.setLong(1, after);
            p.setInt(2, limit + 1);
            List<KeyRecord> keys = new ArrayList<>(limit);
            long lastSeq = after;
            boolean more = false;
            try (ResultSet rs = p.executeQuery()) {
              while (rs.next()) {
                if (keys.size() == limit) {
                  more = true;
                  break;
                }
                lastSeq = rs.getLong("seq");
                keys.add(key(rs));
              }
            }
            return new KeyPage(
                keys, more ? Optional.of(encodeMarker(lastSeq)) : Optional.<String>empty());
          }
        });
  }

  @Override
  public long countKeys() {
    return read(
        "cannot count keys",
        c -> {
          try (Statement s = c.createStatement();
              ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM keys")) {
            rs.next();
            return rs.getLong(1);
          }
        });
  }

  // Key states.

  @Override
  public boolean updateKeyState(
      UUID keyId,
      String expectedState,
      String newState,
      Instant deletionDate,
      Integer pendingWindowDays) {
    requireId(keyId);
    KeyRecord.requireNonNull(expectedState, "expected state");
    KeyRecord.requireNonNull(newState, "new state");
    return inWriteTransaction(
        "cannot change the key's state",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "UPDATE keys SET key_state = ?, deletion_date = ?, pending_window_days = ?"
                      + " WHERE key_id = ? AND key_state = ?")) {
            p.setString(1, newState);
            if (deletionDate == null) {
              p.setNull(2, Types.BIGINT);
            } else {
              p.setLong(2, toMicros(deletionDate));
            }
            setNullableInt(p, 3, pendingWindowDays);
            p.setString(4, keyId.toString());
            p.setString(5, expectedState);
            return p.executeUpdate() == 1;
          }
        });
  }

  @Override
  public boolean updateDescription(UUID keyId, String expectedState, String description) {
    requireId(keyId);
    KeyRecord.requireNonNull(description, "description");
    return inWriteTransaction(
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

  /**
   * Whether the key is in {@code state}, taking the key's row lock (a no-op update) so that writers
   * of one key's dependent rows run one at a time on databases with concurrent writers.
   */
  private static boolean lockKeyInState(Connection c, UUID keyId, String state)
      throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement(
            "UPDATE keys SET key_state = key_state WHERE key_id = ? AND key_state = ?")) {
      p.setString(1, keyId.toString());
      p.setString(2, state);
      return p.executeUpdate() == 1;
    }
  }

  // Aliases.

  @Override
  public boolean createAlias(AliasRecord alias, String expectedKeyState) {
    KeyRecord.requireNonNull(alias, "alias");
    try {
      return inWriteTransaction(
          "cannot store the alias",
          c -> {
            if (!lockKeyInState(c, alias.keyId(), expectedKeyState)) {
              return false;
            }
            try (PreparedStatement p =
                c.prepareStatement(
                    "INSERT INTO aliases (alias_name, key_id, created_at, updated_at)"
                        + " VALUES (?, ?, ?, ?)")) {
              p.setString(1, alias.aliasName());
              p.setString(2, alias.keyId().toString());
              p.setLong(3, toMicros(alias.createdAt()));
              p.setLong(4, toMicros(alias.updatedAt()));
              p.executeUpdate();
            }
            return true;
          });
    } catch (KeyAlreadyExistsException e) {
      throw new AliasAlreadyExistsException(e.getCause());
    }
  }

  @Override
  public Optional<AliasRecord> findAlias(String aliasName) {
    KeyRecord.requireNonNull(aliasName, "alias name");
    return query(
        "cannot read the alias",
        "SELECT " + ALIAS_COLUMNS + " FROM aliases WHERE alias_name = ?",
        p -> {
          p.setString(1, aliasName);
          try (ResultSet rs = p.executeQuery()) {
            return rs.next() ? Optional.of(alias(rs)) : Optional.<AliasRecord>empty();
          }
        });
  }

  @Override
  public boolean updateAlias(
      String aliasName, UUID keyId, String expectedKeyState, Instant updatedAt) {
    KeyRecord.requireNonNull(aliasName, "alias name");
    requireId(keyId);
    return inWriteTransaction(
        "cannot update the alias",
        c -> {
          if (!lockKeyInState(c, keyId, expectedKeyState)) {
            return false;
          }
          try (PreparedStatement p =
              c.prepareStatement(
                  "UPDATE aliases SET key_id = ?, updated_at = ? WHERE alias_name = ?")) {
            p.setString(1, keyId.toString());
            p.setLong(2, toMicros(updatedAt));
            p.setString(3, aliasName);
            return p.executeUpdate() == 1;
          }
        });
  }

  @Override
  public boolean deleteAlias(String aliasName) {
    KeyRecord.requireNonNull(aliasName, "alias name");
    return inWriteTransaction(
        "cannot delete the alias",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement("DELETE FROM aliases WHERE alias_name = ?")) {
            p.setString(1, aliasName);
            return p.executeUpdate() == 1;
          }
        });
  }

  @Override
  public Page<AliasRecord> listAliases(Optional<UUID> keyId, int limit, Optional<String> marker) {
    if (limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new IllegalArgumentException("limit must be 1-" + MAX_PAGE_SIZE + ", was " + limit);
    }
    long after = marker == null || marker.isEmpty() ? 0 : decodeMarker(marker.get());
    boolean oneKey = keyId != null && keyId.isPresent();
    return read(
        "cannot list aliases",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "SELECT "
                      + ALIAS_COLUMNS
                      + " FROM aliases WHERE seq > ?"
                      + (oneKey ? " AND key_id = ?" : "")
                      + " ORDER BY seq "
                      + dialect.limitParameter())) {
            int i = 1;
            p.setLong(i++, after);
            if (oneKey) {
              p.setString(i++, keyId.get().toString());
            }
            p.setInt(i, limit + 1);
            List<AliasRecord> aliases = new ArrayList<>(limit);
            long lastSeq = after;
            boolean more = false;
            try (ResultSet rs = p.executeQuery()) {
              while (rs.next()) {
                if (aliases.size() == limit) {
                  more = true;
                  break;
                }
                lastSeq = rs.getLong("seq");
                aliases.add(alias(rs));
              }
            }
            return new Page<>(
                aliases, more ? Optional.of(encodeMarker(lastSeq)) : Optional.<String>empty());
          }
        });
  }

  // Tags.

  @Override
  public boolean tagKey(
      UUID keyId, String expectedKeyState, Map<String, String> tags, int maxTags) {
    requireId(keyId);
    KeyRecord.requireNonNull(tags, "tags");
    return inWriteTransaction(
        "cannot tag the key",
        c -> {
          if (!lockKeyInState(c, keyId, expectedKeyState)) {
            return false;
          }
          for (Map.Entry<String, String> tag : tags.entrySet()) {
            putTag(c, keyId, tag.getKey(), tag.getValue());
          }
          if (countTags(c, keyId) > maxTags) {
            // Thrown inside the transaction: it rolls back, nothing is written.
            throw new TagLimitExceededException(maxTags);
          }
          return true;
        });
  }

  private static void putTag(Connection c, UUID keyId, String tagKey, String tagValue)
      throws SQLException {
    try (PreparedStatement update =
        c.prepareStatement("UPDATE key_tags SET tag_value = ? WHERE key_id = ? AND tag_key = ?")) {
      update.setString(1, tagValue);
      update.setString(2, keyId.toString());
      update.setString(3, tagKey);
      if (update.executeUpdate() == 1) {
        return;
      }
    }
    try (PreparedStatement insert =
        c.prepareStatement("INSERT INTO key_tags (key_id, tag_key, tag_value) VALUES (?, ?, ?)")) {
      insert.setString(1, keyId.toString());
      insert.setString(2, tagKey);
      insert.setString(3, tagValue);
      insert.executeUpdate();
    }
  }

  private static int countTags(Connection c, UUID keyId) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement("SELECT COUNT(*) FROM key_tags WHERE key_id = ?")) {
      p.setString(1, keyId.toString());
      try (ResultSet rs = p.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  @Override
  public boolean untagKey(UUID keyId, String expectedKeyState, Collection<String> tagKeys) {
    requireId(keyId);
    KeyRecord.requireNonNull(tagKeys, "tag keys");
    return inWriteTransaction(
        "cannot untag the key",
        c -> {
          if (!lockKeyInState(c, keyId, expectedKeyState)) {
            return false;
          }
          try (PreparedStatement p =
              c.prepareStatement("DELETE FROM key_tags WHERE key_id = ? AND tag_key = ?")) {
            for (String tagKey : tagKeys) {
              p.setString(1, keyId.toString());
              p.setString(2, tagKey);
              p.executeUpdate();
            }
          }
          return true;
        });
  }

  @Override
  public Page<TagRecord> listTags(UUID keyId, int limit, Optional<String> marker) {
    requireId(keyId);
    if (limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new IllegalArgumentException("limit must be 1-" + MAX_PAGE_SIZE + ", was " + limit);
    }
    String after = marker == null || marker.isEmpty() ? null : decodeTagMarker(marker.get());
    return read(
        "cannot list tags",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "SELECT tag_key, tag_value FROM key_tags WHERE key_id = ?"
                      + (after == null ? "" : " AND tag_key > ?")
                      + " ORDER BY tag_key "
                      + dialect.limitParameter())) {
            int i = 1;
            p.setString(i++, keyId.toString());
            if (after != null) {
              p.setString(i++, after);
            }
            p.setInt(i, limit + 1);
            List<TagRecord> tags = new ArrayList<>(limit);
            boolean more = false;
            try (ResultSet rs = p.executeQuery()) {
              while (rs.next()) {
                if (tags.size() == limit) {
                  more = true;
                  break;
                }
                tags.add(new TagRecord(rs.getString("tag_key"), rs.getString("tag_value")));
              }
            }
            return new Page<>(
                tags,
                more
                    ? Optional.of(encodeTagMarker(tags.get(tags.size() - 1).tagKey()))
                    : Optional.<String>empty());
          }
        });
  }

  // Deletion.

  @Override
  public List<UUID> findKeysDueForDeletion(Instant now, int limit) {
    return findKeysDue("deletion", PENDING_DELETION, "deletion_date", now, limit);
  }

  @Override
  public boolean deleteKey(UUID keyId, Instant now) {
    requireId(keyId);
    KeyRecord.requireNonNull(now, "now");
    String id = keyId.toString();
    return inWriteTransaction(
        "cannot delete the key",
        c -> {
          // Takes the key's row lock and re-checks, in this transaction, that it is still due:
          // a CancelKeyDeletion that committed first wins.
          try (PreparedStatement p =
              c.prepareStatement(
                  "UPDATE keys SET key_state = key_state"
                      + " WHERE key_id = ? AND key_state = ? AND deletion_date <= ?")) {
            p.setString(1, id);
            p.setString(2, PENDING_DELETION);
            p.setLong(3, toMicros(now));
            if (p.executeUpdate() != 1) {
              return false;
            }
          }
          for (String sql :
              List.of(
                  "DELETE FROM aliases WHERE key_id = ?",
                  "DELETE FROM key_tags WHERE key_id = ?",
                  "DELETE FROM key_rotations WHERE key_id = ?",
                  "DELETE FROM key_versions WHERE key_id = ?",
                  "DELETE FROM keys WHERE key_id = ?")) {
            try (PreparedStatement p = c.prepareStatement(sql)) {
              p.setString(1, id);
              p.executeUpdate();
            }
          }
          try (PreparedStatement p =
              c.prepareStatement("INSERT INTO deleted_keys (key_id, deleted_at) VALUES (?, ?)")) {
            p.setString(1, id);
            p.setLong(2, toMicros(now));
            p.executeUpdate();
          }
          return true;
        });
  }

  @Override
  public Optional<Instant> findDeletedKey(UUID keyId) {
    requireId(keyId);
    return read(
        "cannot read deleted keys",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement("SELECT deleted_at FROM deleted_keys WHERE key_id = ?")) {
            p.setString(1, keyId.toString());
            try (ResultSet rs = p.executeQuery()) {
              return rs.next() ? Optional.of(fromMicros(rs.getLong(1))) : Optional.<Instant>empty();
            }
          }
        });
  }

  // Rotation.

  @Override
  public Optional<RotationSchedule> findRotationSchedule(UUID keyId) {
    requireId(keyId);
    return read(
        "cannot read the rotation schedule",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "SELECT rotation_period_days, next_rotation_date,"
                      + " (SELECT MAX(rotation_date) FROM key_rotations r"
                      + " WHERE r.key_id = keys.key_id AND r.rotation_type = 'ON_DEMAND')"
                      + " FROM keys WHERE key_id = ?")) {
            p.setString(1, keyId.toString());
            try (ResultSet rs = p.executeQuery()) {
              if (!rs.next()) {
                return Optional.<RotationSchedule>empty();
              }
              Integer period = nullableInt(rs, "rotation_period_days");
              long next = rs.getLong(2);
              Instant nextDate = rs.wasNull() ? null : fromMicros(next);
              long onDemand = rs.getLong(3);
              Instant onDemandDate = rs.wasNull() ? null : fromMicros(onDemand);
              return Optional.of(new RotationSchedule(period, nextDate, onDemandDate));
            }
          }
        });
  }

  @Override
  public boolean setRotationSchedule(
      UUID keyId, String expectedKeyState, Integer periodDays, Instant nextRotationDate) {
    requireId(keyId);
    if ((periodDays == null) != (nextRotationDate == null)) {
      throw new IllegalArgumentException("period and next rotation date go together");
    }
    return inWriteTransaction(
        "cannot change the rotation schedule",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "UPDATE keys SET rotation_period_days = ?, next_rotation_date = ?"
                      + " WHERE key_id = ? AND key_state = ?")) {
            setNullableInt(p, 1, periodDays);
            setNullableMicros(p, 2, nextRotationDate);
            p.setString(3, keyId.toString());
            p.setString(4, expectedKeyState);
            return p.executeUpdate() == 1;
          }
        });
  }

  @Override
  public Optional<KeyVersionRecord> addRotation(
      RotationRecord rotation,
      String expectedKeyState,
      Instant expectedNextRotation,
      Instant newNextRotation,
      int domainKeyGeneration,
      int wrapMechanismCode,
      byte[] ekt) {
    KeyRecord.requireNonNull(rotation, "rotation");
    KeyRecord.requireNonNull(expectedKeyState, "expected key state");
    String id = rotation.keyId().toString();
    return inWriteTransaction(
        "cannot store the rotation",
        c -> {
          // The compare-and-set, which also takes the key's row lock.
          String sql =
              "UPDATE keys SET next_rotation_date = "
                  + (newNextRotation == null ? "next_rotation_date" : "?")
                  + " WHERE key_id = ? AND key_state = ?"
                  + (expectedNextRotation == null ? "" : " AND next_rotation_date = ?");
          try (PreparedStatement p = c.prepareStatement(sql)) {
            int i = 1;
            if (newNextRotation != null) {
              p.setLong(i++, toMicros(newNextRotation));
            }
            p.setString(i++, id);
            p.setString(i++, expectedKeyState);
            if (expectedNextRotation != null) {
              p.setLong(i, toMicros(expectedNextRotation));
            }
            if (p.executeUpdate() != 1) {
              return Optional.<KeyVersionRecord>empty();
            }
          }
          int number;
          try (PreparedStatement p =
              c.prepareStatement("SELECT MAX(version_number) FROM key_versions WHERE key_id = ?")) {
            p.setString(1, id);
            try (ResultSet rs = p.executeQuery()) {
              rs.next();
              number = rs.getInt(1) + 1;
            }
          }
          KeyVersionRecord version =
              new KeyVersionRecord(
                  rotation.keyId(),
                  rotation.versionId(),
                  number,
                  rotation.rotationDate(),
                  domainKeyGeneration,
                  wrapMechanismCode,
                  ekt);
          insertVersion(c, version);
          try (PreparedStatement p =
              c.prepareStatement(
                  "INSERT INTO key_rotations (key_id, version_id, rotation_date, rotation_type)"
                      + " VALUES (?, ?, ?, ?)")) {
            p.setString(1, id);
            p.setString(2, rotation.versionId().toString());
            p.setLong(3, toMicros(rotation.rotationDate()));
            p.setString(4, rotation.rotationType());
            p.executeUpdate();
          }
          return Optional.of(version);
        });
  }

  @Override
  public List<UUID> findKeysDueForRotation(Instant now, int limit) {
    return findKeysDue("rotation", "ENABLED", "next_rotation_date", now, limit);
  }

  /**
   * Keys in {@code state} whose {@code dateColumn} (a constant of this class, never input) is at or
   * before {@code now}, earliest first.
   */
  private List<UUID> findKeysDue(
      String what, String state, String dateColumn, Instant now, int limit) {
    KeyRecord.requireNonNull(now, "now");
    return read(
        "cannot find keys due for " + what,
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "SELECT key_id FROM keys WHERE key_state = ? AND "
                      + dateColumn
                      + " <= ? ORDER BY "
                      + dateColumn
                      + ", seq "
                      + dialect.limitParameter())) {
            p.setString(1, state);
            p.setLong(2, toMicros(now));
            p.setInt(3, limit);
            List<UUID> due = new ArrayList<>();
            try (ResultSet rs = p.executeQuery()) {
              while (rs.next()) {
                due.add(UUID.fromString(rs.getString(1)));
              }
            }
            return due;
          }
        });
  }

  @Override
  public Page<RotationRecord> listRotations(UUID keyId, int limit, Optional<String> marker) {
    requireId(keyId);
    if (limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new IllegalArgumentException("limit must be 1-" + MAX_PAGE_SIZE + ", was " + limit);
    }
    long after = marker == null || marker.isEmpty() ? 0 : decodeMarker(marker.get());
    return read(
        "cannot list rotations",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "SELECT seq, key_id, version_id, rotation_date, rotation_type"
                      + " FROM key_rotations WHERE key_id = ? AND seq > ? ORDER BY seq "
                      + dialect.limitParameter())) {
            p.setString(1, keyId.toString());
            p.setLong(2, after);
            p.setInt(3, limit + 1);
            List<RotationRecord> rotations = new ArrayList<>(limit);
            long lastSeq = after;
            boolean more = false;
            try (ResultSet rs = p.executeQuery()) {
              while (rs.next()) {
                if (rotations.size() == limit) {
                  more = true;
                  break;
                }
                lastSeq = rs.getLong("seq");
                rotations.add(
                    new RotationRecord(
                        UUID.fromString(rs.getString("key_id")),
                        UUID.fromString(rs.getString("version_id")),
                        fromMicros(rs.getLong("rotation_date")),
                        rs.getString("rotation_type")));
              }
            }
            return new Page<>(
                rotations, more ? Optional.of(encodeMarker(lastSeq)) : Optional.<String>empty());
          }
        });
  }

  // Domain-key rotation.

  @Override
  public List<KeyVersionRecord> findVersionsBelowGeneration(
      int generation, UUID afterVersionId, int limit) {
    return read(
        "cannot find versions to re-wrap",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "SELECT "
                      + VERSION_COLUMNS
                      + " FROM key_versions WHERE domain_key_generation < ? AND version_id > ?"
                      + " ORDER BY version_id "
                      + dialect.limitParameter())) {
            p.setInt(1, generation);
            p.setString(2, afterVersionId == null ? "" : afterVersionId.toString());
            p.setInt(3, limit);
            List<KeyVersionRecord> versions = new ArrayList<>();
            try (ResultSet rs = p.executeQuery()) {
              while (rs.next()) {
                versions.add(version(rs));
              }
            }
            return versions;
          }
        });
  }

  @Override
  public int replaceEkts(List<Map.Entry<KeyVersionRecord, KeyVersionRecord>> rewrapped) {
    KeyRecord.requireNonNull(rewrapped, "re-wrapped versions");
    return inWriteTransaction(
        "cannot store re-wrapped EKTs",
        c -> {
          int replaced = 0;
          try (PreparedStatement p =
              c.prepareStatement(
                  "UPDATE key_versions SET domain_key_generation = ?, wrap_mechanism = ?, ekt = ?,"
                      + " domain_key_kind = ? WHERE version_id = ? AND domain_key_generation = ?")) {
            for (Map.Entry<KeyVersionRecord, KeyVersionRecord> e : rewrapped) {
              KeyVersionRecord old = e.getKey();
              KeyVersionRecord now = e.getValue();
              if (!old.versionId().equals(now.versionId())) {
                throw new IllegalArgumentException("a re-wrapped version must keep its id");
              }
              p.setInt(1, now.domainKeyGeneration());
              p.setInt(2, now.wrapMechanismCode());
              p.setBytes(3, now.ekt());
              p.setString(4, now.domainKeyKind().name());
              p.setString(5, old.versionId().toString());
              p.setInt(6, old.domainKeyGeneration());
              replaced += p.executeUpdate();
            }
          }
          return replaced;
        });
  }

  @Override
  public Map<Integer, Long> countVersionsByGeneration() {
    return read(
        "cannot count versions by generation",
        c -> {
          try (Statement s = c.createStatement();
              ResultSet rs =
                  s.executeQuery(
                      "SELECT domain_key_generation, COUNT(*) FROM key_versions"
                          + " GROUP BY domain_key_generation")) {
            Map<Integer, Long> counts = new TreeMap<>();
            while (rs.next()) {
              counts.put(rs.getInt(1), rs.getLong(2));
            }
            return counts;
          }
        });
  }

  @Override
  public boolean retireDomainKey(int generation, Instant at) {
    KeyRecord.requireNonNull(at, "retirement time");
    return inWriteTransaction(
        "cannot record the retired domain key",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "INSERT INTO retired_domain_keys (generation, retired_at) VALUES (?, ?)"
                      + " ON CONFLICT (generation) DO NOTHING")) {
            p.setInt(1, generation);
            p.setLong(2, toMicros(at));
            return p.executeUpdate() == 1;
          }
        });
  }

  @Override
  public List<Integer> retiredDomainKeys() {
    return read(
        "cannot read retired domain keys",
        c -> {
          try (Statement s = c.createStatement();
              ResultSet rs =
                  s.executeQuery(
                      "SELECT generation FROM retired_domain_keys ORDER BY generation")) {
            List<Integer> retired = new ArrayList<>();
            while (rs.next()) {
              retired.add(rs.getInt(1));
            }
            return retired;
          }
        });
  }

  private static void setNullableMicros(PreparedStatement p, int index, Instant value)
      throws SQLException {
    if (value == null) {
      p.setNull(index, Types.BIGINT);
    } else {
      p.setLong(index, toMicros(value));
    }
  }

  @Override
  public void close() {
    pool.close();
  }

  // Markers: base64url of a format byte and the last sequence number returned, big-endian.

  static String encodeMarker(long seq) {
    ByteBuffer b = ByteBuffer.allocate(9).put(MARKER_FORMAT).putLong(seq);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
  }

  static long decodeMarker(String marker) {
    byte[] bytes;
    try {
      bytes = Base64.getUrlDecoder().decode(marker);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("marker is malformed");
    }
    if (bytes.length != 9 || bytes[0] != MARKER_FORMAT) {
      throw new IllegalArgumentException("marker is malformed");
    }
    long seq = ByteBuffer.wrap(bytes, 1, 8).getLong();
    if (seq < 1 || !encodeMarker(seq).equals(marker)) {
      throw new IllegalArgumentException("marker is malformed");
    }
    return seq;
  }

  // Tag markers: base64url of a format byte and the last tag key returned, UTF-8.

  static String encodeTagMarker(String tagKey) {
    byte[] key = tagKey.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(1 + key.length).put(TAG_MARKER_FORMAT).put(key);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
  }

  static String decodeTagMarker(String marker) {
    byte[] bytes;
    try {
      bytes = Base64.getUrlDecoder().decode(marker);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("marker is malformed");
    }
    if (bytes.length < 2 || bytes[0] != TAG_MARKER_FORMAT) {
      throw new IllegalArgumentException("marker is malformed");
    }
    String tagKey = new String(bytes, 1, bytes.length - 1, StandardCharsets.UTF_8);
    if (!encodeTagMarker(tagKey).equals(marker)) {
      throw new IllegalArgumentException("marker is malformed");
    }
    return tagKey;
  }

  // Rows.

  private static KeyRecord key(ResultSet rs) throws SQLException {
    long deletion = rs.getLong("deletion_date");
    Instant deletionDate = rs.wasNull() ? null : fromMicros(deletion);
    return new KeyRecord(
        UUID.fromString(rs.getString("key_id")),
        fromMicros(rs.getLong("creation_date")),
        rs.getString("description"),
        rs.getString("key_usage"),
        rs.getString("key_spec"),
        rs.getString("key_state"),
        rs.getString("origin"),
        deletionDate,
        nullableInt(rs, "pending_window_days"));
  }

  /** A row of {@link #KEY_IN_USE_SELECT}: the version's columns are null when it has none. */
  private static KeyInUse keyInUse(ResultSet rs) throws SQLException {
    KeyRecord key = key(rs);
    rs.getString("version_id");
    Optional<KeyVersionRecord> version = rs.wasNull() ? Optional.empty() : Optional.of(version(rs));
    return new KeyInUse(key, version, Optional.ofNullable(rs.getString("policy")));
  }

  private static AliasRecord alias(ResultSet rs) throws SQLException {
    return new AliasRecord(
        rs.getString("alias_name"),
        UUID.fromString(rs.getString("key_id")),
        fromMicros(rs.getLong("created_at")),
        fromMicros(rs.getLong("updated_at")));
  }

  private static Integer nullableInt(ResultSet rs, String column) throws SQLException {
    int value = rs.getInt(column);
    return rs.wasNull() ? null : value;
  }

  private static void setNullableInt(PreparedStatement p, int index, Integer value)
      throws SQLException {
    if (value == null) {
      p.setNull(index, Types.INTEGER);
    } else {
      p.setInt(index, value);
    }
  }

  private static KeyVersionRecord version(ResultSet rs) throws SQLException {
    return new KeyVersionRecord(
        UUID.fromString(rs.getString("key_id")),
        UUID.fromString(rs.getString("version_id")),
        rs.getInt("version_number"),
        fromMicros(rs.getLong("created_at")),
        rs.getInt("domain_key_generation"),
        rs.getInt("wrap_mechanism"),
        rs.getBytes("ekt"),
        DomainKeyKind.valueOf(rs.getString("domain_key_kind")),
        rs.getBytes("public_key"));
  }

  static long toMicros(Instant t) {
    return ChronoUnit.MICROS.between(Instant.EPOCH, t);
  }

  static Instant fromMicros(long micros) {
    return Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
  }

  private static void requireId(UUID id) {
    if (id == null) {
      throw new IllegalArgumentException("id is required");
    }
  }

  // Connections and transactions.

  @FunctionalInterface
  interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  <T> T read(String failure, Work<T> work) {
    Connection c = pool.borrow();
    try {
      return work.run(c);
    } catch (SQLException e) {
      dropIfLost(c, e);
      throw new KeyStoreException(failure, e);
    } finally {
      pool.release(c);
    }
  }

  @FunctionalInterface
  interface StatementWork<T> {
    T run(PreparedStatement p) throws SQLException;
  }

  /** As {@link StatementWork}, with the connection the statement belongs to. */
  @FunctionalInterface
  interface ConnectionStatementWork<T> {
    T run(Connection c, PreparedStatement p) throws SQLException;
  }

  /**
   * A read on a statement prepared once per pooled connection and kept: the hot reads of every
   * request, which would otherwise be parsed and planned anew each time.
   */
  <T> T query(String failure, String sql, StatementWork<T> work) {
    return query(failure, sql, (c, p) -> work.run(p));
  }

  private <T> T query(String failure, String sql, ConnectionStatementWork<T> work) {
    Connection c = pool.borrow();
    try {
      PreparedStatement p = pool.prepared(c, sql);
      try {
        return work.run(c, p);
      } finally {
        p.clearParameters();
      }
    } catch (SQLException e) {
      pool.discard(c, sql);
      dropIfLost(c, e);
      throw new KeyStoreException(failure, e);
    } finally {
      pool.release(c);
    }
  }

  /** How often a transaction that lost to a concurrent one (deadlock) runs again. */
  static final int MAX_RETRIES = 3;

  <T> T inWriteTransaction(String failure, Work<T> work) {
    for (int attempt = 1; ; attempt++) {
      try {
        return inWriteTransactionOnce(failure, work);
      } catch (RetryableException e) {
        if (attempt >= MAX_RETRIES) {
          throw new KeyStoreException(failure, e.getCause());
        }
      }
    }
  }

  /** A transaction the database rolled back only because of a concurrent one. */
  private static final class RetryableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    RetryableException(SQLException cause) {
      super(cause);
    }
  }

  private <T> T inWriteTransactionOnce(String failure, Work<T> work) {
    boolean locked = dialect.serializeWrites();
    if (locked) {
      writeLock.lock();
    }
    try {
      Connection c = pool.borrow();
      try {
        c.setAutoCommit(false);
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException e) {
        rollbackQuietly(c);
        dropIfLost(c, e);
        if (dialect.isUniqueViolation(e)) {
          throw new KeyAlreadyExistsException(e);
        }
        if (dialect.isRetryable(e)) {
          throw new RetryableException(e);
        }
        throw new KeyStoreException(failure, e);
      } catch (RuntimeException e) {
        rollbackQuietly(c);
        throw e;
      } finally {
        pool.release(c);
        // After the commit (or the rollback): a read that began before it is not served again.
        if (keysInUse != null) {
          keysInUse.changed();
        }
      }
    } finally {
      if (locked) {
        writeLock.unlock();
      }
    }
  }

  /**
   * Closes a connection the database ended (SQLState class 08, or 57P: the server shut down or
   * restarted), so that the pool drops it instead of handing it to the next call.
   */
  private static void dropIfLost(Connection c, SQLException e) {
    String state = e.getSQLState();
    if (state != null && (state.startsWith("08") || state.startsWith("57P"))) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // Closed enough: the pool checks isClosed().
      }
    }
  }

  private static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException ignored) {
      // The pool closes a connection it cannot reset.
    }
  }
}
