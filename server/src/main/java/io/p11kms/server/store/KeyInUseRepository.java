package io.p11kms.server.store;

import static io.p11kms.server.store.SqlValues.fromMicros;
import static io.p11kms.server.store.SqlValues.requireId;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;

/**
 * The key read of every request: the key, a version and the policy in one statement, served on
 * SQLite from {@link KeyInUseCache} while the database has not changed since it was read (a change
 * of another process: within {@link KeyInUseCache#DEFAULT_RECHECK}).
 */
final class KeyInUseRepository {
  /**
   * The key's columns, the version's (its key_id is the key's) and the policy; left joins, so a key
   * without that version or without a policy is still found. Read by position (see {@link
   * #keyInUse}): a column looked up by name costs the driver a search of the row's column names.
   */
  private static final String SELECT =
      "SELECT k.creation_date, k.description, k.key_usage, k.key_spec, k.key_state, k.origin,"
          + " k.deletion_date, k.pending_window_days, k.account, k.key_manager, k.service,"
          + " v.version_id, v.version_number, v.created_at, v.domain_key_generation,"
          + " v.wrap_mechanism, v.ekt, v.domain_key_kind, v.public_key, p.policy"
          + " FROM keys k LEFT JOIN key_policies p ON p.key_id = k.key_id";

  private static final String LATEST =
      SELECT
          + " LEFT JOIN key_versions v ON v.key_id = k.key_id AND v.version_number ="
          + " (SELECT MAX(m.version_number) FROM key_versions m WHERE m.key_id = k.key_id)"
          + " WHERE k.key_id = ?";

  private static final String VERSION =
      SELECT
          + " LEFT JOIN key_versions v ON v.key_id = k.key_id AND v.version_id = ?"
          + " WHERE k.key_id = ?";

  private final Transactions tx;

  /** Null where the database has no cheap change counter (PostgreSQL): every read is a query. */
  private final KeyInUseCache cache;

  KeyInUseRepository(Transactions tx, KeyInUseCache cache) {
    this.tx = tx;
    this.cache = cache;
  }

  /** See {@link KeyStore#findKeyInUse}. */
  Optional<KeyInUse> findKeyInUse(UUID keyId, UUID versionId) {
    requireId(keyId);
    String sql = versionId == null ? LATEST : VERSION;
    KeyInUse recent = cache == null ? null : cache.recent(keyId, versionId);
    if (recent != null) {
      return Optional.of(recent);
    }
    return tx.query(
        "cannot read the key",
        sql,
        (c, p) -> {
          long generation = generation(tx, cache, c);
          KeyInUse cached = cache == null ? null : cache.get(keyId, versionId, generation);
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
            KeyInUse found = keyInUse(rs, keyId);
            if (cache != null) {
              cache.put(keyId, versionId, generation, found);
            }
            return Optional.of(found);
          }
        });
  }

  /** How many key reads are kept now (0 where none are). */
  int cached() {
    return cache == null ? 0 : cache.size();
  }

  /**
   * The generation of {@code cache} (0 where there is none) a read made next on {@code c} belongs
   * to: the current one while the change counter was checked within the recheck bound, else the one
   * {@code c}'s change counter tells now. On a store of many keys most reads miss the cache, and
   * asking the counter is a statement of its own.
   */
  static long generation(Transactions tx, KeyInUseCache cache, Connection c) throws SQLException {
    if (cache == null) {
      return 0;
    }
    long recent = cache.recentGeneration();
    return recent >= 0 ? recent : cache.observe(c, changeCounter(tx, c));
  }

  /** The database's change counter as {@code c} sees it now (see {@link KeyInUseCache}). */
  static long changeCounter(Transactions tx, Connection c) throws SQLException {
    String sql = tx.dialect().changeCounterQuery().orElseThrow();
    PreparedStatement p = tx.kept(c, sql);
    try (ResultSet rs = p.executeQuery()) {
      if (!rs.next()) {
        throw new SQLException("the change counter query returned no row");
      }
      return rs.getLong(1);
    } catch (SQLException e) {
      // As the key read does for its own statement: a statement that failed is not kept.
      tx.discard(c, sql);
      throw e;
    }
  }

  /**
   * A row of {@link #SELECT} for the key {@code keyId} (the row's key, so its id is not read back):
   * the version's columns are null when it has none. Columns by their position in the SELECT.
   */
  private static KeyInUse keyInUse(ResultSet rs, UUID keyId) throws SQLException {
    long deletion = rs.getLong(7);
    Instant deletionDate = rs.wasNull() ? null : fromMicros(deletion);
    int pendingWindow = rs.getInt(8);
    Integer pendingWindowDays = rs.wasNull() ? null : pendingWindow;
    KeyRecord key =
        new KeyRecord(
            keyId,
            fromMicros(rs.getLong(1)),
            rs.getString(2),
            KeyRows.shared(rs.getString(3)),
            KeyRows.shared(rs.getString(4)),
            KeyRows.shared(rs.getString(5)),
            KeyRows.shared(rs.getString(6)),
            deletionDate,
            pendingWindowDays,
            KeyRows.shared(rs.getString(9)),
            KeyRows.shared(rs.getString(10)),
            KeyRows.shared(rs.getString(11)));
    String versionId = rs.getString(12);
    Optional<KeyVersionRecord> version =
        versionId == null
            ? Optional.empty()
            : Optional.of(
                new KeyVersionRecord(
                    keyId,
                    UUID.fromString(versionId),
                    rs.getInt(13),
                    fromMicros(rs.getLong(14)),
                    rs.getInt(15),
                    rs.getInt(16),
                    rs.getBytes(17),
                    DomainKeyKind.valueOf(rs.getString(18)),
                    rs.getBytes(19)));
    return new KeyInUse(key, version, Optional.ofNullable(rs.getString(20)));
  }
}
