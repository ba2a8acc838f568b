package io.p11kms.server.store;

import static io.p11kms.server.store.SqlValues.requireId;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
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
   * without that version or without a policy is still found.
   */
  private static final String SELECT =
      "SELECT k.seq, k.key_id, k.creation_date, k.description, k.key_usage, k.key_spec,"
          + " k.key_state, k.origin, k.deletion_date, k.pending_window_days, k.account,"
          + " k.key_manager, k.service, v.version_id,"
          + " v.version_number, v.created_at, v.domain_key_generation, v.wrap_mechanism, v.ekt,"
          + " v.domain_key_kind, v.public_key, p.policy FROM keys k LEFT JOIN key_policies p ON p.key_id = k.key_id";

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
          long generation = cache == null ? 0 : cache.observe(c, changeCounter(tx, c));
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
            KeyInUse found = keyInUse(rs);
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

  /** A row of {@link #SELECT}: the version's columns are null when it has none. */
  private static KeyInUse keyInUse(ResultSet rs) throws SQLException {
    KeyRecord key = KeyRows.key(rs);
    rs.getString("version_id");
    Optional<KeyVersionRecord> version =
        rs.wasNull() ? Optional.empty() : Optional.of(KeyRows.version(rs));
    return new KeyInUse(key, version, Optional.ofNullable(rs.getString("policy")));
  }
}
