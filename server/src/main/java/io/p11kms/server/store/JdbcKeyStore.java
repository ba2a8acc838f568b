package io.p11kms.server.store;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The key store over JDBC, in standard SQL; what differs between databases is in {@link
 * SqlDialect}. Reads run on pooled connections without a lock; writes hold a process-wide lock only
 * where the dialect asks for it (SQLite, which has one writer anyway). Open it with {@link
 * KeyStores#open}, which also creates or migrates the schema.
 */
public final class JdbcKeyStore implements KeyStore {
  /** The largest page {@link #listKeys} returns, as AWS KMS ListKeys. */
  public static final int MAX_PAGE_SIZE = 1000;

  static final Duration BORROW_TIMEOUT = Duration.ofSeconds(30);

  private static final byte MARKER_FORMAT = 1;
  private static final String KEY_COLUMNS =
      "seq, key_id, creation_date, description, key_usage, key_spec, key_state, origin,"
          + " deletion_date";
  private static final String VERSION_COLUMNS =
      "key_id, version_id, version_number, created_at, domain_key_generation, wrap_mechanism, ekt";

  private final SqlDialect dialect;
  private final ConnectionPool pool;
  private final ReentrantLock writeLock = new ReentrantLock(true);

  JdbcKeyStore(SqlDialect dialect) {
    this.dialect = dialect;
    this.pool = new ConnectionPool(dialect, BORROW_TIMEOUT);
  }

  /** Creates the schema or brings it up to date. Called once, by {@link KeyStores#open}. */
  void migrate() {
    inWriteTransaction(
        "cannot create or migrate the key store schema",
        c -> {
          try (Statement s = c.createStatement()) {
            s.execute(Migrations.CREATE_SCHEMA_VERSION);
          }
          int current = schemaVersion(c);
          if (current > Migrations.latestVersion()) {
            throw new KeyStoreException(
                "the key store schema is version "
                    + current
                    + ", newer than this server knows ("
                    + Migrations.latestVersion()
                    + ")");
          }
          for (Migrations.Migration m : Migrations.ALL) {
            if (m.version() <= current) {
              continue;
            }
            try (Statement s = c.createStatement()) {
              for (String sql : m.statements()) {
                s.execute(Migrations.render(sql, dialect));
              }
            }
            try (PreparedStatement p =
                c.prepareStatement(
                    "INSERT INTO schema_version (version, description, applied_at)"
                        + " VALUES (?, ?, ?)")) {
              p.setInt(1, m.version());
              p.setString(2, m.description());
              p.setLong(3, toMicros(Instant.now()));
              p.executeUpdate();
            }
          }
          return null;
        });
  }

  /** The schema version the database is at; 0 before any migration. */
  int schemaVersion() {
    return read("cannot read the schema version", JdbcKeyStore::schemaVersion);
  }

  private static int schemaVersion(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT MAX(version) FROM schema_version")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  @Override
  public void createKey(KeyRecord key, KeyVersionRecord firstVersion) {
    if (key == null || firstVersion == null) {
      throw new IllegalArgumentException("key and first version are required");
    }
    if (!firstVersion.keyId().equals(key.keyId())) {
      throw new IllegalArgumentException("first version belongs to another key");
    }
    if (firstVersion.versionNumber() != 1) {
      throw new IllegalArgumentException(
          "first version number must be 1, was " + firstVersion.versionNumber());
    }
    inWriteTransaction(
        "cannot store the key",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "INSERT INTO keys (key_id, creation_date, description, key_usage, key_spec,"
                      + " key_state, origin, deletion_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
            p.setString(1, key.keyId().toString());
            p.setLong(2, toMicros(key.creationDate()));
            p.setString(3, key.description());
            p.setString(4, key.keyUsage());
            p.setString(5, key.keySpec());
            p.setString(6, key.keyState());
            p.setString(7, key.origin());
            if (key.deletionDate() == null) {
              p.setNull(8, Types.BIGINT);
            } else {
              p.setLong(8, toMicros(key.deletionDate()));
            }
            p.executeUpdate();
          }
          insertVersion(c, firstVersion);
          return null;
        });
  }

  private static void insertVersion(Connection c, KeyVersionRecord v) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement(
            "INSERT INTO key_versions (" + VERSION_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?)")) {
      p.setString(1, v.keyId().toString());
      p.setString(2, v.versionId().toString());
      p.setInt(3, v.versionNumber());
      p.setLong(4, toMicros(v.createdAt()));
      p.setInt(5, v.domainKeyGeneration());
      p.setInt(6, v.wrapMechanismCode());
      p.setBytes(7, v.ekt());
      p.executeUpdate();
    }
  }

  @Override
  public Optional<KeyRecord> findKey(UUID keyId) {
    requireId(keyId);
    return read(
        "cannot read the key",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement("SELECT " + KEY_COLUMNS + " FROM keys WHERE key_id = ?")) {
            p.setString(1, keyId.toString());
            try (ResultSet rs = p.executeQuery()) {
              return rs.next() ? Optional.of(key(rs)) : Optional.<KeyRecord>empty();
            }
          }
        });
  }

  @Override
  public Optional<KeyVersionRecord> findVersion(UUID keyId, UUID versionId) {
    requireId(keyId);
    requireId(versionId);
    return findOneVersion(
        "SELECT " + VERSION_COLUMNS + " FROM key_versions WHERE key_id = ? AND version_id = ?",
        keyId.toString(),
        versionId.toString());
  }

  @Override
  public Optional<KeyVersionRecord> findLatestVersion(UUID keyId) {
    requireId(keyId);
    return findOneVersion(
        "SELECT "
            + VERSION_COLUMNS
            + " FROM key_versions WHERE key_id = ? AND version_number ="
            + " (SELECT MAX(version_number) FROM key_versions WHERE key_id = ?)",
        keyId.toString(),
        keyId.toString());
  }

  private Optional<KeyVersionRecord> findOneVersion(String sql, String first, String second) {
    return read(
        "cannot read the key version",
        c -> {
          try (PreparedStatement p = c.prepareStatement(sql)) {
            p.setString(1, first);
            p.setString(2, second);
            try (ResultSet rs = p.executeQuery()) {
              return rs.next() ? Optional.of(version(rs)) : Optional.<KeyVersionRecord>empty();
            }
          }
        });
  }

  @Override
  public KeyPage listKeys(int limit, Optional<String> marker) {
    if (limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new IllegalArgumentException("limit must be 1-" + MAX_PAGE_SIZE + ", was " + limit);
    }
    long after = marker == null || marker.isEmpty() ? 0 : decodeMarker(marker.get());
    return read(
        "cannot list keys",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "SELECT "
                      + KEY_COLUMNS
                      + " FROM keys WHERE seq > ? ORDER BY seq "
                      + dialect.limitParameter())) {
            p.setLong(1, after);
            p.setInt(2, limit + 1);
            List<KeyRecord> keys = new ArrayList<>(limit);
            long lastSeq = after;
            boolean more = false;
            try (ResultSet rs = p.executeQuery()) {
              while (rs.next()) {
                if (keys.size() == limit) {
                  more = true;
                  break;
                }
                lastSeq = rs.getLong("seq");
                keys.add(key(rs));
              }
            }
            return new KeyPage(
                keys, more ? Optional.of(encodeMarker(lastSeq)) : Optional.<String>empty());
          }
        });
  }

  @Override
  public long countKeys() {
    return read(
        "cannot count keys",
        c -> {
          try (Statement s = c.createStatement();
              ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM keys")) {
            rs.next();
            return rs.getLong(1);
          }
        });
  }

  @Override
  public void close() {
    pool.close();
  }

  // Markers: base64url of a format byte and the last sequence number returned, big-endian.

  static String encodeMarker(long seq) {
    ByteBuffer b = ByteBuffer.allocate(9).put(MARKER_FORMAT).putLong(seq);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
  }

  static long decodeMarker(String marker) {
    byte[] bytes;
    try {
      bytes = Base64.getUrlDecoder().decode(marker);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("marker is malformed");
    }
    if (bytes.length != 9 || bytes[0] != MARKER_FORMAT) {
      throw new IllegalArgumentException("marker is malformed");
    }
    long seq = ByteBuffer.wrap(bytes, 1, 8).getLong();
    if (seq < 1 || !encodeMarker(seq).equals(marker)) {
      throw new IllegalArgumentException("marker is malformed");
    }
    return seq;
  }

  // Rows.

  private static KeyRecord key(ResultSet rs) throws SQLException {
    long deletion = rs.getLong("deletion_date");
    Instant deletionDate = rs.wasNull() ? null : fromMicros(deletion);
    return new KeyRecord(
        UUID.fromString(rs.getString("key_id")),
        fromMicros(rs.getLong("creation_date")),
        rs.getString("description"),
        rs.getString("key_usage"),
        rs.getString("key_spec"),
        rs.getString("key_state"),
        rs.getString("origin"),
        deletionDate);
  }

  private static KeyVersionRecord version(ResultSet rs) throws SQLException {
    return new KeyVersionRecord(
        UUID.fromString(rs.getString("key_id")),
        UUID.fromString(rs.getString("version_id")),
        rs.getInt("version_number"),
        fromMicros(rs.getLong("created_at")),
        rs.getInt("domain_key_generation"),
        rs.getInt("wrap_mechanism"),
        rs.getBytes("ekt"));
  }

  static long toMicros(Instant t) {
    return ChronoUnit.MICROS.between(Instant.EPOCH, t);
  }

  static Instant fromMicros(long micros) {
    return Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
  }

  private static void requireId(UUID id) {
    if (id == null) {
      throw new IllegalArgumentException("id is required");
    }
  }

  // Connections and transactions.

  @FunctionalInterface
  private interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  private <T> T read(String failure, Work<T> work) {
    Connection c = pool.borrow();
    try {
      return work.run(c);
    } catch (SQLException e) {
      throw new KeyStoreException(failure, e);
    } finally {
      pool.release(c);
    }
  }

  private <T> T inWriteTransaction(String failure, Work<T> work) {
    boolean locked = dialect.serializeWrites();
    if (locked) {
      writeLock.lock();
    }
    try {
      Connection c = pool.borrow();
      try {
        c.setAutoCommit(false);
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException e) {
        rollbackQuietly(c);
        if (dialect.isUniqueViolation(e)) {
          throw new KeyAlreadyExistsException(e);
        }
        throw new KeyStoreException(failure, e);
      } catch (RuntimeException e) {
        rollbackQuietly(c);
        throw e;
      } finally {
        pool.release(c);
      }
    } finally {
      if (locked) {
        writeLock.unlock();
      }
    }
  }

  private static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException ignored) {
      // The pool closes a connection it cannot reset.
    }
  }
}
