package io.p11kms.server.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

/**
 * How values are stored: times as microseconds since the epoch (UTC) in a BIGINT, ids as their
 * string form, absent numbers as SQL NULL.
 */
final class SqlValues {
  private SqlValues() {}

  static long toMicros(Instant t) {
    return ChronoUnit.MICROS.between(Instant.EPOCH, t);
  }

  static Instant fromMicros(long micros) {
    return Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
  }

  /** The time in {@code column}, or null. */
  static Instant nullableInstant(ResultSet rs, int column) throws SQLException {
    long micros = rs.getLong(column);
    return rs.wasNull() ? null : fromMicros(micros);
  }

  static Integer nullableInt(ResultSet rs, String column) throws SQLException {
    int value = rs.getInt(column);
    return rs.wasNull() ? null : value;
  }

  static void setNullableInt(PreparedStatement p, int index, Integer value) throws SQLException {
    if (value == null) {
      p.setNull(index, Types.INTEGER);
    } else {
      p.setInt(index, value);
    }
  }

  static void setNullableMicros(PreparedStatement p, int index, Instant value) throws SQLException {
    if (value == null) {
      p.setNull(index, Types.BIGINT);
    } else {
      p.setLong(index, toMicros(value));
    }
  }

  static void requireId(UUID id) {
    if (id == null) {
      throw new IllegalArgumentException("id is required");
    }
  }
}
