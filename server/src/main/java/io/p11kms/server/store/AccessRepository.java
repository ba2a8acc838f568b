package io.p11kms.server.store;

import static io.p11kms.server.store.SqlValues.fromMicros;
import static io.p11kms.server.store.SqlValues.toMicros;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/** {@link AccessStore} in the {@code key_policies} and {@code grants} tables. */
final class AccessRepository implements AccessStore {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String GRANT_COLUMNS =
      "grant_id, key_id, name, grantee, retiring, operations, constraints, grant_token, created_at";

  private final Transactions tx;

  AccessRepository(Transactions tx) {
    this.tx = tx;
  }

  @Override
  public Optional<String> findPolicy(UUID keyId) {
    return tx.read(
        "cannot read the key policy",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement("SELECT policy FROM key_policies WHERE key_id = ?")) {
            p.setString(1, keyId.toString());
            try (ResultSet rs = p.executeQuery()) {
              return rs.next() ? Optional.of(rs.getString(1)) : Optional.<String>empty();
            }
          }
        });
  }

  @Override
  public void putPolicy(UUID keyId, String policy, Instant now) {
    tx.inWriteTransaction(
        "cannot write the key policy",
        c -> {
          putPolicy(c, keyId, policy, now);
          return null;
        });
  }

  /**
   * Writes the policy in the caller's transaction. One statement, so that two servers writing one
   * key's policy at once cannot both find no row and both insert.
   */
  static void putPolicy(java.sql.Connection c, UUID keyId, String policy, Instant now)
      throws java.sql.SQLException {
    try (PreparedStatement p =
        c.prepareStatement(
            "INSERT INTO key_policies (key_id, policy, updated_at) VALUES (?, ?, ?)"
                + " ON CONFLICT (key_id) DO UPDATE"
                + " SET policy = excluded.policy, updated_at = excluded.updated_at")) {
      p.setString(1, keyId.toString());
      p.setString(2, policy);
      p.setLong(3, toMicros(now));
      p.executeUpdate();
    }
  }

  @Override
  public void createGrant(GrantRecord g) {
    tx.inWriteTransaction(
        "cannot write the grant",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  // The grant is in its key's account.
                  "INSERT INTO grants ("
                      + GRANT_COLUMNS
                      + ", account) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
                      + " COALESCE((SELECT account FROM keys WHERE key_id = ?), ''))")) {
            p.setString(1, g.grantId());
            p.setString(2, g.keyId().toString());
            p.setString(3, g.name());
            p.setString(4, g.grantee());
            p.setString(5, g.retiring());
            p.setString(6, String.join(",", g.operations()));
            p.setString(7, constraints(g));
            p.setString(8, g.grantToken());
            p.setLong(9, toMicros(g.createdAt()));
            p.setString(10, g.keyId().toString());
            p.executeUpdate();
          }
          return null;
        });
  }

  @Override
  public List<GrantRecord> grantsOfKey(UUID keyId) {
    return grants("key_id", keyId.toString());
  }

  @Override
  public List<GrantRecord> grantsRetirableBy(String principal) {
    return grants("retiring", principal);
  }

  @Override
  public Optional<GrantRecord> findGrant(String grantId) {
    return grants("grant_id", grantId).stream().findFirst();
  }

  @Override
  public Optional<GrantRecord> findGrantByToken(String token) {
    return grants("grant_token", token).stream().findFirst();
  }

  @Override
  public boolean deleteGrant(String grantId) {
    return tx.inWriteTransaction(
        "cannot delete the grant",
        c -> {
          try (PreparedStatement p = c.prepareStatement("DELETE FROM grants WHERE grant_id = ?")) {
            p.setString(1, grantId);
            return p.executeUpdate() > 0;
          }
        });
  }

  private List<GrantRecord> grants(String column, String value) {
    return tx.read(
        "cannot read grants",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "SELECT "
                      + GRANT_COLUMNS
                      + " FROM grants WHERE "
                      + column
                      + " = ? ORDER BY created_at, grant_id")) {
            p.setString(1, value);
            List<GrantRecord> out = new ArrayList<>();
            try (ResultSet rs = p.executeQuery()) {
              while (rs.next()) {
                out.add(grant(rs));
              }
            }
            return out;
          }
        });
  }

  private static GrantRecord grant(ResultSet rs) throws SQLException {
    Map<String, Map<String, String>> constraints = parseConstraints(rs.getString("constraints"));
    String ops = rs.getString("operations");
    return new GrantRecord(
        rs.getString("grant_id"),
        UUID.fromString(rs.getString("key_id")),
        rs.getString("name"),
        rs.getString("grantee"),
        rs.getString("retiring"),
        ops.isEmpty() ? List.of() : Arrays.asList(ops.split(",")),
        constraints.getOrDefault("equals", Map.of()),
        constraints.getOrDefault("subset", Map.of()),
        rs.getString("grant_token"),
        fromMicros(rs.getLong("created_at")));
  }

  private static String constraints(GrantRecord g) throws SQLException {
    Map<String, Map<String, String>> c = new LinkedHashMap<>();
    c.put("equals", g.contextEquals());
    c.put("subset", g.contextSubset());
    try {
      return JSON.writeValueAsString(c);
    } catch (JsonProcessingException e) {
      throw new SQLException("cannot encode grant constraints", e);
    }
  }

  private static Map<String, Map<String, String>> parseConstraints(String json)
      throws SQLException {
    if (json == null) {
      return Map.of();
    }
    try {
      return JSON.readValue(json, new TypeReference<Map<String, Map<String, String>>>() {});
    } catch (JsonProcessingException e) {
      throw new SQLException("unreadable grant constraints", e);
    }
  }
}
