package io.p11kms.server.store;

import static io.p11kms.server.store.SqlValues.fromMicros;
import static io.p11kms.server.store.SqlValues.nullableInstant;
import static io.p11kms.server.store.SqlValues.nullableInt;
import static io.p11kms.server.store.SqlValues.requireId;
import static io.p11kms.server.store.SqlValues.setNullableInt;
import static io.p11kms.server.store.SqlValues.setNullableMicros;
import static io.p11kms.server.store.SqlValues.toMicros;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Rotation of a key's backing key: its automatic rotation schedule, each rotation (the next version
 * and its history row, in one transaction), and the rotation history.
 */
final class RotationRepository {
  private final Transactions tx;

  RotationRepository(Transactions tx) {
    this.tx = tx;
  }

  Optional<RotationSchedule> findRotationSchedule(UUID keyId) {
    requireId(keyId);
    return tx.read(
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
              Instant nextDate = nullableInstant(rs, 2);
              Instant onDemandDate = nullableInstant(rs, 3);
              return Optional.of(new RotationSchedule(period, nextDate, onDemandDate));
            }
          }
        });
  }

  boolean setRotationSchedule(
      UUID keyId, String expectedKeyState, Integer periodDays, Instant nextRotationDate) {
    requireId(keyId);
    if ((periodDays == null) != (nextRotationDate == null)) {
      throw new IllegalArgumentException("period and next rotation date go together");
    }
    return tx.inWriteTransaction(
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

  /** See {@link KeyStore#addRotation}. */
  Optional<KeyVersionRecord> addRotation(
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
    return tx.inWriteTransaction(
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
          KeyRows.insertVersion(c, version);
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

  List<UUID> findKeysDueForRotation(Instant now, int limit) {
    return KeyRows.findKeysDue(tx, "rotation", "ENABLED", "next_rotation_date", now, limit);
  }

  Page<RotationRecord> listRotations(UUID keyId, int limit, Optional<String> marker) {
    requireId(keyId);
    PageMarkers.checkLimit(limit);
    long after = PageMarkers.after(marker);
    return tx.read(
        "cannot list rotations",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "SELECT seq, key_id, version_id, rotation_date, rotation_type"
                      + " FROM key_rotations WHERE key_id = ? AND seq > ? ORDER BY seq "
                      + tx.dialect().limitParameter())) {
            p.setString(1, keyId.toString());
            p.setLong(2, after);
            p.setInt(3, limit + 1);
            return PageMarkers.bySequence(p, limit, RotationRepository::rotation);
          }
        });
  }

  private static RotationRecord rotation(ResultSet rs) throws SQLException {
    return new RotationRecord(
        UUID.fromString(rs.getString("key_id")),
        UUID.fromString(rs.getString("version_id")),
        fromMicros(rs.getLong("rotation_date")),
        rs.getString("rotation_type"));
  }
}
