package io.p11kms.server.store;

import static io.p11kms.server.store.KeyRows.PENDING_DELETION;
import static io.p11kms.server.store.SqlValues.fromMicros;
import static io.p11kms.server.store.SqlValues.requireId;
import static io.p11kms.server.store.SqlValues.toMicros;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Deletion of keys for good once their waiting period is over: everything of the key goes in one
 * transaction, and a tombstone (key id and time, nothing else) stays.
 */
final class DeletionRepository {
  /** The key's dependent rows first, then the key: the order the foreign keys need. */
  private static final List<String> DELETE_KEY =
      List.of(
          "DELETE FROM aliases WHERE key_id = ?",
          "DELETE FROM key_tags WHERE key_id = ?",
          "DELETE FROM key_rotations WHERE key_id = ?",
          "DELETE FROM key_versions WHERE key_id = ?",
          "DELETE FROM imported_key_material WHERE key_id = ?",
          "DELETE FROM multi_region_replications WHERE key_id = ?",
          "DELETE FROM multi_region_announcements WHERE key_id = ?",
          "DELETE FROM multi_region_keys WHERE key_id = ?",
          "DELETE FROM keys WHERE key_id = ?");

  private final Transactions tx;

  DeletionRepository(Transactions tx) {
    this.tx = tx;
  }

  List<UUID> findKeysDueForDeletion(Instant now, int limit) {
    return KeyRows.findKeysDue(tx, "deletion", PENDING_DELETION, "deletion_date", now, limit);
  }

  boolean deleteKey(UUID keyId, Instant now) {
    requireId(keyId);
    KeyRecord.requireNonNull(now, "now");
    String id = keyId.toString();
    return tx.inWriteTransaction(
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
          for (String sql : DELETE_KEY) {
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

  Optional<Instant> findDeletedKey(UUID keyId) {
    requireId(keyId);
    return tx.read(
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
}
