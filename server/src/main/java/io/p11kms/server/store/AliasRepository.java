package io.p11kms.server.store;

import static io.p11kms.server.store.SqlValues.fromMicros;
import static io.p11kms.server.store.SqlValues.requireId;
import static io.p11kms.server.store.SqlValues.toMicros;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;

/**
 * Aliases: names unique per account by a database constraint, each written only while its key is in
 * the expected state (under the key's row lock).
 */
final class AliasRepository {
  private static final String COLUMNS = "seq, account, alias_name, key_id, created_at, updated_at";

  private final Transactions tx;

  AliasRepository(Transactions tx) {
    this.tx = tx;
  }

  boolean createAlias(AliasRecord alias, String expectedKeyState) {
    KeyRecord.requireNonNull(alias, "alias");
    try {
      return tx.inWriteTransaction(
          "cannot store the alias",
          c -> {
            if (!KeyRows.lockKeyInState(c, alias.keyId(), expectedKeyState)) {
              return false;
            }
            insert(c, alias);
            return true;
          });
    } catch (KeyAlreadyExistsException e) {
      throw new AliasAlreadyExistsException(e.getCause());
    }
  }

  static void insert(Connection c, AliasRecord alias) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement(
            "INSERT INTO aliases (account, alias_name, key_id, created_at, updated_at)"
                + " VALUES (?, ?, ?, ?, ?)")) {
      p.setString(1, alias.account());
      p.setString(2, alias.aliasName());
      p.setString(3, alias.keyId().toString());
      p.setLong(4, toMicros(alias.createdAt()));
      p.setLong(5, toMicros(alias.updatedAt()));
      p.executeUpdate();
    }
  }

  Optional<AliasRecord> findAlias(String account, String aliasName) {
    KeyRecord.requireNonNull(account, "account");
    KeyRecord.requireNonNull(aliasName, "alias name");
    return tx.query(
        "cannot read the alias",
        "SELECT " + COLUMNS + " FROM aliases WHERE account = ? AND alias_name = ?",
        p -> {
          p.setString(1, account);
          p.setString(2, aliasName);
          try (ResultSet rs = p.executeQuery()) {
            return rs.next() ? Optional.of(alias(rs)) : Optional.<AliasRecord>empty();
          }
        });
  }

  boolean updateAlias(
      String account, String aliasName, UUID keyId, String expectedKeyState, Instant updatedAt) {
    KeyRecord.requireNonNull(account, "account");
    KeyRecord.requireNonNull(aliasName, "alias name");
    requireId(keyId);
    return tx.inWriteTransaction(
        "cannot update the alias",
        c -> {
          if (!KeyRows.lockKeyInState(c, keyId, expectedKeyState)) {
            return false;
          }
          try (PreparedStatement p =
              c.prepareStatement(
                  "UPDATE aliases SET key_id = ?, updated_at = ?"
                      + " WHERE account = ? AND alias_name = ?")) {
            p.setString(1, keyId.toString());
            p.setLong(2, toMicros(updatedAt));
            p.setString(3, account);
            p.setString(4, aliasName);
            return p.executeUpdate() == 1;
          }
        });
  }

  boolean deleteAlias(String account, String aliasName) {
    KeyRecord.requireNonNull(account, "account");
    KeyRecord.requireNonNull(aliasName, "alias name");
    return tx.inWriteTransaction(
        "cannot delete the alias",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement("DELETE FROM aliases WHERE account = ? AND alias_name = ?")) {
            p.setString(1, account);
            p.setString(2, aliasName);
            return p.executeUpdate() == 1;
          }
        });
  }

  Page<AliasRecord> listAliases(
      String account, Optional<UUID> keyId, int limit, Optional<String> marker) {
    KeyRecord.requireNonNull(account, "account");
    PageMarkers.checkLimit(limit);
    long after = PageMarkers.after(marker);
    boolean oneKey = keyId != null && keyId.isPresent();
    return tx.read(
        "cannot list aliases",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "SELECT "
                      + COLUMNS
                      + " FROM aliases WHERE seq > ? AND account = ?"
                      + (oneKey ? " AND key_id = ?" : "")
                      + " ORDER BY seq "
                      + tx.dialect().limitParameter())) {
            int i = 1;
            p.setLong(i++, after);
            p.setString(i++, account);
            if (oneKey) {
              p.setString(i++, keyId.get().toString());
            }
            p.setInt(i, limit + 1);
            return PageMarkers.bySequence(p, limit, AliasRepository::alias);
          }
        });
  }

  private static AliasRecord alias(ResultSet rs) throws SQLException {
    return new AliasRecord(
        rs.getString("alias_name"),
        UUID.fromString(rs.getString("key_id")),
        fromMicros(rs.getLong("created_at")),
        fromMicros(rs.getLong("updated_at")),
        rs.getString("account"));
  }
}
