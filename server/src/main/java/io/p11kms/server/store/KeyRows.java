package io.p11kms.server.store;

import static io.p11kms.server.store.SqlValues.fromMicros;
import static io.p11kms.server.store.SqlValues.nullableInt;
import static io.p11kms.server.store.SqlValues.toMicros;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The rows of {@code keys} and {@code key_versions} as the repositories read and write them, and
 * the key's row lock that every writer of a key's dependent rows takes first.
 */
final class KeyRows {
  static final String PENDING_DELETION = "PENDING_DELETION";

  static final String KEY_COLUMNS =
      "seq, key_id, creation_date, description, key_usage, key_spec, key_state, origin,"
          + " deletion_date, pending_window_days, account, key_manager, service";

  static final String VERSION_COLUMNS =
      "key_id, version_id, version_number, created_at, domain_key_generation, wrap_mechanism, ekt,"
          + " domain_key_kind, public_key";

  private KeyRows() {}

  static KeyRecord key(ResultSet rs) throws SQLException {
    long deletion = rs.getLong("deletion_date");
    Instant deletionDate = rs.wasNull() ? null : fromMicros(deletion);
    return new KeyRecord(
        UUID.fromString(rs.getString("key_id")),
        fromMicros(rs.getLong("creation_date")),
        rs.getString("description"),
        shared(rs, "key_usage"),
        shared(rs, "key_spec"),
        shared(rs, "key_state"),
        shared(rs, "origin"),
        deletionDate,
        nullableInt(rs, "pending_window_days"),
        shared(rs, "account"),
        shared(rs, "key_manager"),
        shared(rs, "service"));
  }

  /**
   * A column with few distinct values (a usage, a state, an account), as one shared string: a read
   * is kept in memory for each key in use ({@code KeyInUseCache}), and a copy of each such value
   * per key made up about a third of what one costs.
   */
  private static String shared(ResultSet rs, String column) throws SQLException {
    return shared(rs.getString(column));
  }

  /** {@code value} as the one shared copy of it; null for null. */
  static String shared(String value) {
    return value == null ? null : value.intern();
  }

  static KeyVersionRecord version(ResultSet rs) throws SQLException {
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

  static void insertKey(Connection c, KeyRecord key) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement(
            "INSERT INTO keys (key_id, creation_date, description, key_usage, key_spec,"
                + " key_state, origin, deletion_date, pending_window_days, account,"
                + " key_manager, service)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
      p.setString(1, key.keyId().toString());
      p.setLong(2, toMicros(key.creationDate()));
      p.setString(3, key.description());
      p.setString(4, key.keyUsage());
      p.setString(5, key.keySpec());
      p.setString(6, key.keyState());
      p.setString(7, key.origin());
      SqlValues.setNullableMicros(p, 8, key.deletionDate());
      SqlValues.setNullableInt(p, 9, key.pendingWindowDays());
      p.setString(10, key.account());
      p.setString(11, key.keyManager());
      p.setString(12, key.service());
      p.executeUpdate();
    }
  }

  static void insertVersion(Connection c, KeyVersionRecord v) throws SQLException {
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

  /**
   * Whether the key is in {@code state}, taking the key's row lock (a no-op update) so that writers
   * of one key's dependent rows run one at a time on databases with concurrent writers.
   */
  static boolean lockKeyInState(Connection c, UUID keyId, String state) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement(
            "UPDATE keys SET key_state = key_state WHERE key_id = ? AND key_state = ?")) {
      p.setString(1, keyId.toString());
      p.setString(2, state);
      return p.executeUpdate() == 1;
    }
  }

  /**
   * Keys in {@code state} whose {@code dateColumn} (a constant of the caller, never input) is at or
   * before {@code now}, earliest first, at most {@code limit}.
   */
  static List<UUID> findKeysDue(
      Transactions tx, String what, String state, String dateColumn, Instant now, int limit) {
    KeyRecord.requireNonNull(now, "now");
    return tx.read(
        "cannot find keys due for " + what,
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "SELECT key_id FROM keys WHERE key_state = ? AND "
                      + dateColumn
                      + " <= ? ORDER BY "
                      + dateColumn
                      + ", seq "
                      + tx.dialect().limitParameter())) {
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
}
