package io.p11kms.server.store;

import static io.p11kms.server.store.SqlValues.requireId;
import static io.p11kms.server.store.SqlValues.toMicros;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

/** {@link MultiRegionKeys} in the {@code multi_region_keys} table beside the keys. */
final class MultiRegionKeyRepository implements MultiRegionKeys {
  private static final String PENDING_REPLICA_DELETION = "PENDING_REPLICA_DELETION";

  private final Transactions tx;

  MultiRegionKeyRepository(Transactions tx) {
    this.tx = tx;
  }

  @Override
  public void createPrimary(
      KeyRecord key, KeyVersionRecord firstVersion, Map<String, String> tags, String region) {
    if (key == null || firstVersion == null || !firstVersion.keyId().equals(key.keyId())) {
      throw new IllegalArgumentException("a key and its first version are required");
    }
    tx.inWriteTransaction(
        "cannot store the key",
        c -> {
          KeyRows.insertKey(c, key);
          KeyRows.insertVersion(c, firstVersion);
          putTags(c, key.keyId(), tags);
          insertConfiguration(
              c, key.keyId(), new Configuration(region, List.of()), key.creationDate());
          return null;
        });
  }

  @Override
  public boolean createReplica(
      KeyRecord key,
      List<KeyVersionRecord> versions,
      Map<String, String> tags,
      String policy,
      Configuration configuration,
      Instant now) {
    if (key == null || versions == null || versions.isEmpty() || configuration == null) {
      throw new IllegalArgumentException("a key, its versions and its configuration are required");
    }
    for (KeyVersionRecord v : versions) {
      if (!v.keyId().equals(key.keyId())) {
        throw new IllegalArgumentException("a version belongs to another key");
      }
    }
    return tx.inWriteTransaction(
        "cannot store the replica",
        c -> {
          if (keyExists(c, key.keyId())) {
            return false;
          }
          KeyRows.insertKey(c, key);
          for (KeyVersionRecord v : versions) {
            KeyRows.insertVersion(c, v);
          }
          putTags(c, key.keyId(), tags);
          if (policy != null) {
            AccessRepository.putPolicy(c, key.keyId(), policy, now);
          }
          insertConfiguration(c, key.keyId(), configuration, now);
          return true;
        });
  }

  @Override
  public int addVersions(UUID keyId, List<KeyVersionRecord> versions) {
    requireId(keyId);
    return tx.inWriteTransaction(
        "cannot store the key versions",
        c -> {
          List<UUID> present = versionIds(c, keyId);
          int added = 0;
          for (KeyVersionRecord v : versions) {
            if (!v.keyId().equals(keyId)) {
              throw new IllegalArgumentException("a version belongs to another key");
            }
            if (!present.contains(v.versionId())) {
              KeyRows.insertVersion(c, v);
              added++;
            }
          }
          return added;
        });
  }

  @Override
  public Optional<Configuration> find(UUID keyId) {
    requireId(keyId);
    return tx.query(
        "cannot read the multi-Region configuration",
        "SELECT primary_region, replica_regions, updating_to FROM multi_region_keys"
            + " WHERE key_id = ?",
        p -> {
          p.setString(1, keyId.toString());
          try (ResultSet rs = p.executeQuery()) {
            return rs.next()
                ? Optional.of(
                    new Configuration(rs.getString(1), regions(rs.getString(2)), rs.getString(3)))
                : Optional.<Configuration>empty();
          }
        });
  }

  @Override
  public boolean startReplication(UUID keyId, String region, Set<String> states, Instant now) {
    requireId(keyId);
    return tx.inWriteTransaction(
        "cannot record the replication",
        c -> {
          String state = lockKey(c, keyId);
          if (state == null || !states.contains(state) || configuration(c, keyId) == null) {
            return false;
          }
          try (PreparedStatement p =
              c.prepareStatement(
                  "INSERT INTO multi_region_replications (key_id, region, started_at)"
                      + " VALUES (?, ?, ?) ON CONFLICT (key_id, region) DO NOTHING")) {
            p.setString(1, keyId.toString());
            p.setString(2, region);
            p.setLong(3, toMicros(now));
            p.executeUpdate();
          }
          return true;
        });
  }

  @Override
  public void endReplication(UUID keyId, String region, Instant now) {
    requireId(keyId);
    tx.inWriteTransaction(
        "cannot record the replication's end",
        c -> {
          lockKey(c, keyId);
          deleteReplication(c, keyId, region);
          Stored stored = configuration(c, keyId);
          if (stored != null) {
            startWaitingPeriodIfLast(c, keyId, stored.configuration().replicaRegions(), now);
          }
          return null;
        });
  }

  @Override
  public boolean addReplicaRegion(UUID keyId, String region, Instant now) {
    requireId(keyId);
    return tx.inWriteTransaction(
        "cannot record the replica",
        c -> {
          lockKey(c, keyId);
          Stored stored = configuration(c, keyId);
          deleteReplication(c, keyId, region);
          if (stored == null) {
            return false;
          }
          TreeSet<String> replicas = new TreeSet<>(stored.configuration().replicaRegions());
          replicas.add(region);
          writeReplicas(c, keyId, replicas, now);
          tell(c, keyId, replicas);
          return true;
        });
  }

  @Override
  public Optional<String> scheduleDeletion(
      UUID keyId, String expectedState, String self, int pendingWindowDays, Instant deletionDate) {
    requireId(keyId);
    return tx.inWriteTransaction(
        "cannot change the key's state",
        c -> {
          if (!expectedState.equals(lockKey(c, keyId))) {
            return Optional.<String>empty();
          }
          Stored stored = configuration(c, keyId);
          boolean waits =
              stored != null
                  && stored.configuration().primaryRegion().equals(self)
                  && (!stored.configuration().replicaRegions().isEmpty()
                      || hasReplications(c, keyId));
          try (PreparedStatement p =
              c.prepareStatement(
                  "UPDATE keys SET key_state = ?, deletion_date = ?, pending_window_days = ?"
                      + " WHERE key_id = ?")) {
            p.setString(1, waits ? PENDING_REPLICA_DELETION : KeyRows.PENDING_DELETION);
            SqlValues.setNullableMicros(p, 2, waits ? null : deletionDate);
            p.setInt(3, pendingWindowDays);
            p.setString(4, keyId.toString());
            p.executeUpdate();
          }
          return Optional.of(waits ? PENDING_REPLICA_DELETION : KeyRows.PENDING_DELETION);
        });
  }

  @Override
  public Optional<Configuration> removeReplicaRegion(UUID keyId, String region, Instant now) {
    requireId(keyId);
    return tx.inWriteTransaction(
        "cannot record the replica's deletion",
        c -> {
          lockKey(c, keyId);
          Stored stored = configuration(c, keyId);
          if (stored == null) {
            return Optional.<Configuration>empty();
          }
          Configuration before = stored.configuration();
          TreeSet<String> replicas = new TreeSet<>(before.replicaRegions());
          replicas.remove(region);
          writeReplicas(c, keyId, replicas, now);
          tell(c, keyId, replicas);
          startWaitingPeriodIfLast(c, keyId, List.copyOf(replicas), now);
          return Optional.of(
              new Configuration(
                  before.primaryRegion(), List.copyOf(replicas), before.updatingTo()));
        });
  }

  @Override
  public List<UUID> keysToAnnounce(int limit) {
    return tx.query(
        "cannot read the multi-Region keys to announce",
        "SELECT DISTINCT key_id FROM multi_region_announcements ORDER BY key_id LIMIT ?",
        p -> {
          p.setInt(1, limit);
          List<UUID> out = new ArrayList<>();
          try (ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
              out.add(UUID.fromString(rs.getString(1)));
            }
          }
          return out;
        });
  }

  @Override
  public Optional<Announcement> announcement(UUID keyId) {
    requireId(keyId);
    return tx.read(
        "cannot read the multi-Region key's announcement",
        c -> {
          Stored stored = configuration(c, keyId);
          List<String> regions = new ArrayList<>();
          try (PreparedStatement p =
              c.prepareStatement(
                  "SELECT region FROM multi_region_announcements WHERE key_id = ?"
                      + " ORDER BY region")) {
            p.setString(1, keyId.toString());
            try (ResultSet rs = p.executeQuery()) {
              while (rs.next()) {
                regions.add(rs.getString(1));
              }
            }
          }
          return stored == null || regions.isEmpty()
              ? Optional.<Announcement>empty()
              : Optional.of(
                  new Announcement(keyId, stored.configuration(), stored.revision(), regions));
        });
  }

  @Override
  public void announced(UUID keyId, String region, Long revision) {
    requireId(keyId);
    tx.inWriteTransaction(
        "cannot record the announcement",
        c -> {
          Stored stored = configuration(c, keyId);
          if (stored == null || revision == null || stored.revision() == revision) {
            try (PreparedStatement p =
                c.prepareStatement(
                    "DELETE FROM multi_region_announcements WHERE key_id = ? AND region = ?")) {
              p.setString(1, keyId.toString());
              p.setString(2, region);
              p.executeUpdate();
            }
          } else {
            tell(c, keyId, List.of(region));
          }
          return null;
        });
  }

  @Override
  public boolean beginPrimaryUpdate(UUID keyId, String self, String newPrimary, Instant now) {
    requireId(keyId);
    return tx.inWriteTransaction(
        "cannot record the primary region update",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "UPDATE multi_region_keys SET updating_to = ?, updated_at = ?"
                      + " WHERE key_id = ? AND primary_region = ?"
                      + " AND (updating_to IS NULL OR updating_to = ?)")) {
            p.setString(1, newPrimary);
            p.setLong(2, toMicros(now));
            p.setString(3, keyId.toString());
            p.setString(4, self);
            p.setString(5, newPrimary);
            return p.executeUpdate() == 1;
          }
        });
  }

  @Override
  public boolean cancelPrimaryUpdate(UUID keyId, String newPrimary, Instant now) {
    requireId(keyId);
    return tx.inWriteTransaction(
        "cannot record the primary region update",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "UPDATE multi_region_keys SET updating_to = NULL, updated_at = ?"
                      + " WHERE key_id = ? AND updating_to = ?")) {
            p.setLong(1, toMicros(now));
            p.setString(2, keyId.toString());
            p.setString(3, newPrimary);
            return p.executeUpdate() == 1;
          }
        });
  }

  @Override
  public boolean changePrimary(
      UUID keyId,
      Configuration configuration,
      Integer rotationPeriodDays,
      Instant nextRotation,
      Collection<String> tell,
      Instant now) {
    requireId(keyId);
    if ((rotationPeriodDays == null) != (nextRotation == null)) {
      throw new IllegalArgumentException("a rotation period goes with its next rotation date");
    }
    return tx.inWriteTransaction(
        "cannot record the new primary region",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "UPDATE multi_region_keys SET primary_region = ?, replica_regions = ?,"
                      + " updating_to = NULL, updated_at = ?, revision = revision + 1"
                      + " WHERE key_id = ?")) {
            p.setString(1, configuration.primaryRegion());
            p.setString(2, String.join(",", configuration.replicaRegions()));
            p.setLong(3, toMicros(now));
            p.setString(4, keyId.toString());
            if (p.executeUpdate() != 1) {
              return false;
            }
          }
          try (PreparedStatement p =
              c.prepareStatement(
                  "UPDATE keys SET rotation_period_days = ?, next_rotation_date = ?"
                      + " WHERE key_id = ?")) {
            SqlValues.setNullableInt(p, 1, rotationPeriodDays);
            SqlValues.setNullableMicros(p, 2, nextRotation);
            p.setString(3, keyId.toString());
            p.executeUpdate();
          }
          tell(c, keyId, tell);
          return true;
        });
  }

  @Override
  public List<KeyVersionRecord> versions(UUID keyId) {
    requireId(keyId);
    return tx.query(
        "cannot read the key versions",
        "SELECT "
            + KeyRows.VERSION_COLUMNS
            + " FROM key_versions WHERE key_id = ? ORDER BY version_number",
        p -> {
          p.setString(1, keyId.toString());
          List<KeyVersionRecord> out = new ArrayList<>();
          try (ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
              out.add(KeyRows.version(rs));
            }
          }
          return out;
        });
  }

  /** A key's configuration here and its revision. */
  private record Stored(Configuration configuration, long revision) {}

  private static Stored configuration(Connection c, UUID keyId) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement(
            "SELECT primary_region, replica_regions, updating_to, revision FROM multi_region_keys"
                + " WHERE key_id = ?")) {
      p.setString(1, keyId.toString());
      try (ResultSet rs = p.executeQuery()) {
        return rs.next()
            ? new Stored(
                new Configuration(rs.getString(1), regions(rs.getString(2)), rs.getString(3)),
                rs.getLong(4))
            : null;
      }
    }
  }

  /**
   * Takes the key's row lock (so that changes of its state and of its replicas are made one after
   * the other) and returns its state; null when there is no such key.
   */
  private static String lockKey(Connection c, UUID keyId) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement("UPDATE keys SET key_state = key_state WHERE key_id = ?")) {
      p.setString(1, keyId.toString());
      if (p.executeUpdate() != 1) {
        return null;
      }
    }
    try (PreparedStatement p = c.prepareStatement("SELECT key_state FROM keys WHERE key_id = ?")) {
      p.setString(1, keyId.toString());
      try (ResultSet rs = p.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  private static void writeReplicas(
      Connection c, UUID keyId, Collection<String> replicas, Instant now) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement(
            "UPDATE multi_region_keys SET replica_regions = ?, updated_at = ?,"
                + " revision = revision + 1 WHERE key_id = ?")) {
      p.setString(1, String.join(",", new TreeSet<>(replicas)));
      p.setLong(2, toMicros(now));
      p.setString(3, keyId.toString());
      p.executeUpdate();
    }
  }

  /** Marks {@code regions} to be told the key's configuration. */
  private static void tell(Connection c, UUID keyId, Collection<String> regions)
      throws SQLException {
    for (String region : regions) {
      try (PreparedStatement p =
          c.prepareStatement(
              "INSERT INTO multi_region_announcements (key_id, region) VALUES (?, ?)"
                  + " ON CONFLICT (key_id, region) DO NOTHING")) {
        p.setString(1, keyId.toString());
        p.setString(2, region);
        p.executeUpdate();
      }
    }
  }

  private static void deleteReplication(Connection c, UUID keyId, String region)
      throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement(
            "DELETE FROM multi_region_replications WHERE key_id = ? AND region = ?")) {
      p.setString(1, keyId.toString());
      p.setString(2, region);
      p.executeUpdate();
    }
  }

  private static boolean hasReplications(Connection c, UUID keyId) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement("SELECT 1 FROM multi_region_replications WHERE key_id = ?")) {
      p.setString(1, keyId.toString());
      try (ResultSet rs = p.executeQuery()) {
        return rs.next();
      }
    }
  }

  /**
   * A primary in PendingReplicaDeletion with no replica left and none being made becomes
   * PendingDeletion, due its stored waiting period from {@code now}.
   */
  private static void startWaitingPeriodIfLast(
      Connection c, UUID keyId, List<String> replicas, Instant now) throws SQLException {
    if (!replicas.isEmpty() || hasReplications(c, keyId)) {
      return;
    }
    Integer days = null;
    try (PreparedStatement p =
        c.prepareStatement(
            "SELECT pending_window_days FROM keys WHERE key_id = ? AND key_state = ?")) {
      p.setString(1, keyId.toString());
      p.setString(2, PENDING_REPLICA_DELETION);
      try (ResultSet rs = p.executeQuery()) {
        if (rs.next()) {
          days = rs.getInt(1);
        }
      }
    }
    if (days != null) {
      try (PreparedStatement p =
          c.prepareStatement(
              "UPDATE keys SET key_state = ?, deletion_date = ?"
                  + " WHERE key_id = ? AND key_state = ?")) {
        p.setString(1, KeyRows.PENDING_DELETION);
        p.setLong(2, toMicros(now.plus(Duration.ofDays(days))));
        p.setString(3, keyId.toString());
        p.setString(4, PENDING_REPLICA_DELETION);
        p.executeUpdate();
      }
    }
  }

  private static void insertConfiguration(
      Connection c, UUID keyId, Configuration configuration, Instant now) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement(
            "INSERT INTO multi_region_keys (key_id, primary_region, replica_regions, updated_at)"
                + " VALUES (?, ?, ?, ?)")) {
      p.setString(1, keyId.toString());
      p.setString(2, configuration.primaryRegion());
      p.setString(3, String.join(",", new TreeSet<>(configuration.replicaRegions())));
      p.setLong(4, toMicros(now));
      p.executeUpdate();
    }
  }

  private static void putTags(Connection c, UUID keyId, Map<String, String> tags)
      throws SQLException {
    if (tags != null) {
      for (Map.Entry<String, String> tag : tags.entrySet()) {
        TagRepository.putTag(c, keyId, tag.getKey(), tag.getValue());
      }
    }
  }

  private static boolean keyExists(Connection c, UUID keyId) throws SQLException {
    try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM keys WHERE key_id = ?")) {
      p.setString(1, keyId.toString());
      try (ResultSet rs = p.executeQuery()) {
        return rs.next();
      }
    }
  }

  private static List<UUID> versionIds(Connection c, UUID keyId) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement("SELECT version_id FROM key_versions WHERE key_id = ?")) {
      p.setString(1, keyId.toString());
      List<UUID> out = new ArrayList<>();
      try (ResultSet rs = p.executeQuery()) {
        while (rs.next()) {
          out.add(UUID.fromString(rs.getString(1)));
        }
      }
      return out;
    }
  }

  private static List<String> regions(String joined) {
    return joined == null || joined.isEmpty() ? List.of() : Arrays.asList(joined.split(","));
  }
}
