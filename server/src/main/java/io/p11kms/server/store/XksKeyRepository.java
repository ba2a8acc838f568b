package io.p11kms.server.store;

import static io.p11kms.server.store.SqlValues.fromMicros;
import static io.p11kms.server.store.SqlValues.toMicros;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * {@link XksKeys} in the {@code xks_keys} table. The exposure every XKS request reads is served on
 * SQLite from {@link KeyInUseCache} while the database has not changed since it was read.
 */
final class XksKeyRepository implements XksKeys {
  private static final String COLUMNS = "external_key_id, key_id, key_usage, created_at";
  private static final String FIND =
      "SELECT " + COLUMNS + " FROM xks_keys WHERE external_key_id = ?";

  private final Transactions tx;

  /** Null where the database has no cheap change counter (PostgreSQL): every read is a query. */
  private final KeyInUseCache cache;

  XksKeyRepository(Transactions tx, KeyInUseCache cache) {
    this.tx = tx;
    this.cache = cache;
  }

  @Override
  public void expose(XksKeyRecord key) {
    tx.inWriteTransaction(
        "cannot expose the key to XKS",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement("INSERT INTO xks_keys (" + COLUMNS + ") VALUES (?, ?, ?, ?)")) {
            p.setString(1, key.externalKeyId());
            p.setString(2, key.keyId().toString());
            p.setString(3, String.join(",", key.usages()));
            p.setLong(4, toMicros(key.createdAt()));
            p.executeUpdate();
          }
          return null;
        });
  }

  @Override
  public Optional<XksKeyRecord> find(String externalKeyId) {
    Optional<XksKeyRecord> recent = cache == null ? null : cache.recentExposure(externalKeyId);
    if (recent != null) {
      return recent;
    }
    return tx.query(
        "cannot read the XKS key",
        FIND,
        (c, p) -> {
          long generation = KeyInUseRepository.generation(tx, cache, c);
          Optional<XksKeyRecord> cached =
              cache == null ? null : cache.exposure(externalKeyId, generation);
          if (cached != null) {
            return cached;
          }
          p.setString(1, externalKeyId);
          Optional<XksKeyRecord> found;
          try (ResultSet rs = p.executeQuery()) {
            found = rs.next() ? Optional.of(row(rs)) : Optional.empty();
          }
          if (cache != null) {
            cache.putExposure(externalKeyId, generation, found);
          }
          return found;
        });
  }

  @Override
  public List<XksKeyRecord> list() {
    return tx.read(
        "cannot list the XKS keys",
        c -> {
          try (PreparedStatement p =
                  c.prepareStatement(
                      "SELECT " + COLUMNS + " FROM xks_keys ORDER BY external_key_id");
              ResultSet rs = p.executeQuery()) {
            List<XksKeyRecord> out = new ArrayList<>();
            while (rs.next()) {
              out.add(row(rs));
            }
            return out;
          }
        });
  }

  @Override
  public boolean remove(String externalKeyId) {
    return tx.inWriteTransaction(
        "cannot remove the XKS key",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement("DELETE FROM xks_keys WHERE external_key_id = ?")) {
            p.setString(1, externalKeyId);
            return p.executeUpdate() == 1;
          }
        });
  }

  private static XksKeyRecord row(ResultSet rs) throws SQLException {
    List<String> usages = List.of(rs.getString(3).split(","));
    return new XksKeyRecord(
        rs.getString(1),
        UUID.fromString(rs.getString(2)),
        usages.contains("ENCRYPT"),
        usages.contains("DECRYPT"),
        fromMicros(rs.getLong(4)));
  }
}
