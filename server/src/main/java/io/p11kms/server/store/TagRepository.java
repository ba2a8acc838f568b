package io.p11kms.server.store;

import static io.p11kms.server.store.SqlValues.requireId;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * A key's tags, written under the key's row lock so that the tag limit holds across servers, and
 * listed in tag-key order.
 */
final class TagRepository {
  private final Transactions tx;

  TagRepository(Transactions tx) {
    this.tx = tx;
  }

  boolean tagKey(UUID keyId, String expectedKeyState, Map<String, String> tags, int maxTags) {
    requireId(keyId);
    KeyRecord.requireNonNull(tags, "tags");
    return tx.inWriteTransaction(
        "cannot tag the key",
        c -> {
          if (!KeyRows.lockKeyInState(c, keyId, expectedKeyState)) {
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

  /** Sets one tag of a key, in the caller's transaction. */
  static void putTag(Connection c, UUID keyId, String tagKey, String tagValue) throws SQLException {
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

  boolean untagKey(UUID keyId, String expectedKeyState, Collection<String> tagKeys) {
    requireId(keyId);
    KeyRecord.requireNonNull(tagKeys, "tag keys");
    return tx.inWriteTransaction(
        "cannot untag the key",
        c -> {
          if (!KeyRows.lockKeyInState(c, keyId, expectedKeyState)) {
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

  Page<TagRecord> listTags(UUID keyId, int limit, Optional<String> marker) {
    requireId(keyId);
    PageMarkers.checkLimit(limit);
    String after =
        marker == null || marker.isEmpty() ? null : PageMarkers.decodeTagMarker(marker.get());
    return tx.read(
        "cannot list tags",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "SELECT tag_key, tag_value FROM key_tags WHERE key_id = ?"
                      + (after == null ? "" : " AND tag_key > ?")
                      + " ORDER BY tag_key "
                      + tx.dialect().limitParameter())) {
            int i = 1;
            p.setString(i++, keyId.toString());
            if (after != null) {
              p.setString(i++, after);
            }
            p.setInt(i, limit + 1);
            return PageMarkers.collect(
                p,
                limit,
                rs -> new TagRecord(rs.getString("tag_key"), rs.getString("tag_value")),
                rs -> rs.getString("tag_key"),
                PageMarkers::encodeTagMarker);
          }
        });
  }
}
