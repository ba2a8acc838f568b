package io.p11kms.server.store;

import static io.p11kms.server.store.SqlValues.fromMicros;
import static io.p11kms.server.store.SqlValues.requireId;
import static io.p11kms.server.store.SqlValues.setNullableMicros;
import static io.p11kms.server.store.SqlValues.toMicros;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * The imported material of EXTERNAL keys ({@code imported_key_material}): each change is one
 * transaction with the key's state, compare-and-set on it as every key change is.
 */
final class ImportedMaterialRepository {
  private static final String COLUMNS =
      "key_id, version_id, check_value, expiration_model, valid_to, imported_at";

  private final Transactions tx;

  ImportedMaterialRepository(Transactions tx) {
    this.tx = tx;
  }

  Optional<ImportedMaterial> find(UUID keyId) {
    requireId(keyId);
    return tx.read(
        "cannot read the imported key material",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "SELECT " + COLUMNS + " FROM imported_key_material WHERE key_id = ?")) {
            p.setString(1, keyId.toString());
            try (ResultSet rs = p.executeQuery()) {
              return rs.next() ? Optional.of(row(rs)) : Optional.<ImportedMaterial>empty();
            }
          }
        });
  }

  /** See {@link KeyStore#storeImportedMaterial}. */
  boolean store(
      ImportedMaterial material,
      String expectedState,
      String newState,
      KeyVersionRecord versionOrNull) {
    KeyRecord.requireNonNull(material, "material");
    if (versionOrNull != null
        && (!versionOrNull.keyId().equals(material.keyId())
            || !versionOrNull.versionId().equals(material.versionId()))) {
      throw new IllegalArgumentException("the version is not the material's");
    }
    return tx.inWriteTransaction(
        "cannot store the imported key material",
        c -> {
          if (!setState(c, material.keyId(), expectedState, newState)) {
            return false;
          }
          try (PreparedStatement p =
              c.prepareStatement(
                  "UPDATE imported_key_material SET version_id = ?, check_value = ?,"
                      + " expiration_model = ?, valid_to = ?, imported_at = ? WHERE key_id = ?")) {
            p.setString(1, material.versionId().toString());
            p.setBytes(2, material.checkValue());
            p.setString(3, material.expirationModel());
            setNullableMicros(p, 4, material.validTo());
            p.setLong(5, toMicros(material.importedAt()));
            p.setString(6, material.keyId().toString());
            if (p.executeUpdate() == 0) {
              insert(c, material);
            }
          }
          if (versionOrNull != null) {
            KeyRows.insertVersion(c, versionOrNull);
          }
          return true;
        });
  }

  /** See {@link KeyStore#deleteImportedMaterial}. */
  boolean delete(UUID keyId, String expectedState, String newState, Instant expectedValidTo) {
    requireId(keyId);
    return tx.inWriteTransaction(
        "cannot delete the imported key material",
        c -> {
          if (!KeyRows.lockKeyInState(c, keyId, expectedState)) {
            return false;
          }
          if (expectedValidTo != null) {
            try (PreparedStatement p =
                c.prepareStatement("SELECT valid_to FROM imported_key_material WHERE key_id = ?")) {
              p.setString(1, keyId.toString());
              try (ResultSet rs = p.executeQuery()) {
                if (!rs.next()
                    || !Objects.equals(
                        SqlValues.nullableInstant(rs, 1),
                        expectedValidTo.truncatedTo(java.time.temporal.ChronoUnit.MICROS))) {
                  return false;
                }
              }
            }
          }
          setState(c, keyId, expectedState, newState);
          for (String sql :
              List.of(
                  "UPDATE imported_key_material SET expiration_model = NULL, valid_to = NULL"
                      + " WHERE key_id = ?",
                  "DELETE FROM key_versions WHERE key_id = ?")) {
            try (PreparedStatement p = c.prepareStatement(sql)) {
              p.setString(1, keyId.toString());
              p.executeUpdate();
            }
          }
          return true;
        });
  }

  /** Keys whose imported material expires at or before {@code now}, earliest first. */
  List<UUID> findExpiring(Instant now, int limit) {
    KeyRecord.requireNonNull(now, "now");
    return tx.read(
        "cannot find expiring key material",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "SELECT key_id FROM imported_key_material WHERE valid_to <= ?"
                      + " ORDER BY valid_to, key_id "
                      + tx.dialect().limitParameter())) {
            p.setLong(1, toMicros(now));
            p.setInt(2, limit);
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

  private static boolean setState(Connection c, UUID keyId, String expected, String state)
      throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement("UPDATE keys SET key_state = ? WHERE key_id = ? AND key_state = ?")) {
      p.setString(1, state);
      p.setString(2, keyId.toString());
      p.setString(3, expected);
      return p.executeUpdate() == 1;
    }
  }

  private static void insert(Connection c, ImportedMaterial m) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement(
            "INSERT INTO imported_key_material (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?)")) {
      p.setString(1, m.keyId().toString());
      p.setString(2, m.versionId().toString());
      p.setBytes(3, m.checkValue());
      p.setString(4, m.expirationModel());
      setNullableMicros(p, 5, m.validTo());
      p.setLong(6, toMicros(m.importedAt()));
      p.executeUpdate();
    }
  }

  private static ImportedMaterial row(ResultSet rs) throws SQLException {
    return new ImportedMaterial(
        UUID.fromString(rs.getString("key_id")),
        UUID.fromString(rs.getString("version_id")),
        rs.getBytes("check_value"),
        rs.getString("expiration_model"),
        SqlValues.nullableInstant(rs, 5),
        fromMicros(rs.getLong("imported_at")));
  }
}
