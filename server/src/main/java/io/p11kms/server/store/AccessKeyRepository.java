package io.p11kms.server.store;

import static io.p11kms.server.store.SqlValues.fromMicros;
import static io.p11kms.server.store.SqlValues.toMicros;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@link AccessKeys} in the {@code access_keys} table. An active key holds one of its principal's
 * {@value AccessKeys#MAX_ACTIVE} slots of its scope; the table's unique constraint on the slot
 * keeps the limit when two writers take the last one at once (the loser runs again and finds none
 * free).
 */
final class AccessKeyRepository implements AccessKeys {
  private static final String COLUMNS =
      "access_key_id, account_id, principal, scope, active_slot, created_at,"
          + " domain_key_generation, domain_key_kind, wrap_mechanism, secret_ekt";

  private final Transactions tx;

  AccessKeyRepository(Transactions tx) {
    this.tx = tx;
  }

  @Override
  public boolean create(AccessKeyRecord key) {
    KeyRecord.requireNonNull(key, "access key");
    if (find(key.accessKeyId()).isPresent()) {
      throw new KeyAlreadyExistsException(null);
    }
    return onceMoreIfASlotWasTaken(
        () ->
            tx.inWriteTransaction(
                "cannot store the access key",
                c -> {
                  Integer slot = null;
                  if (key.active()) {
                    slot = freeSlot(c, key.accountId(), key.principal(), key.scope());
                    if (slot == null) {
                      return false;
                    }
                  }
                  try (PreparedStatement p =
                      c.prepareStatement(
                          "INSERT INTO access_keys ("
                              + COLUMNS
                              + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                    p.setString(1, key.accessKeyId());
                    p.setString(2, key.accountId());
                    p.setString(3, key.principal());
                    p.setString(4, key.scope().name());
                    SqlValues.setNullableInt(p, 5, slot);
                    p.setLong(6, toMicros(key.createdAt()));
                    p.setInt(7, key.domainKeyGeneration());
                    p.setString(8, key.domainKeyKind().name());
                    p.setInt(9, key.wrapMechanismCode());
                    p.setBytes(10, key.secretEkt());
                    p.executeUpdate();
                  }
                  return true;
                }));
  }

  @Override
  public Optional<AccessKeyRecord> find(String accessKeyId) {
    List<AccessKeyRecord> found = select("WHERE access_key_id = ?", accessKeyId);
    return found.stream().findFirst();
  }

  @Override
  public List<AccessKeyRecord> list(Optional<String> accountId, Optional<String> principal) {
    if (principal.isPresent() && accountId.isEmpty()) {
      throw new IllegalArgumentException("a principal is listed within its account");
    }
    if (principal.isPresent()) {
      return select(
          "WHERE account_id = ? AND principal = ? ORDER BY created_at, access_key_id",
          accountId.get(),
          principal.get());
    }
    if (accountId.isPresent()) {
      return select("WHERE account_id = ? ORDER BY created_at, access_key_id", accountId.get());
    }
    return select("ORDER BY created_at, access_key_id");
  }

  @Override
  public boolean setActive(String accessKeyId, boolean active) {
    return onceMoreIfASlotWasTaken(
        () ->
            tx.inWriteTransaction(
                "cannot change the access key",
                c -> {
                  Optional<AccessKeyRecord> key =
                      selectIn(c, "WHERE access_key_id = ?", accessKeyId).stream().findFirst();
                  if (key.isEmpty()) {
                    return false;
                  }
                  if (key.get().active() == active) {
                    return true;
                  }
                  Integer slot = null;
                  if (active) {
                    AccessKeyRecord k = key.get();
                    slot = freeSlot(c, k.accountId(), k.principal(), k.scope());
                    if (slot == null) {
                      return false;
                    }
                  }
                  try (PreparedStatement p =
                      c.prepareStatement(
                          "UPDATE access_keys SET active_slot = ? WHERE access_key_id = ?")) {
                    SqlValues.setNullableInt(p, 1, slot);
                    p.setString(2, accessKeyId);
                    return p.executeUpdate() == 1;
                  }
                }));
  }

  @Override
  public boolean delete(String accessKeyId) {
    return tx.inWriteTransaction(
        "cannot delete the access key",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement("DELETE FROM access_keys WHERE access_key_id = ?")) {
            p.setString(1, accessKeyId);
            return p.executeUpdate() == 1;
          }
        });
  }

  @Override
  public boolean replaceEkt(String accessKeyId, int expectedGeneration, AccessKeyRecord rewrapped) {
    KeyRecord.requireNonNull(rewrapped, "re-wrapped access key");
    return tx.inWriteTransaction(
        "cannot replace the access key's EKT",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "UPDATE access_keys SET domain_key_generation = ?, domain_key_kind = ?,"
                      + " wrap_mechanism = ?, secret_ekt = ?"
                      + " WHERE access_key_id = ? AND domain_key_generation = ?")) {
            p.setInt(1, rewrapped.domainKeyGeneration());
            p.setString(2, rewrapped.domainKeyKind().name());
            p.setInt(3, rewrapped.wrapMechanismCode());
            p.setBytes(4, rewrapped.secretEkt());
            p.setString(5, accessKeyId);
            p.setInt(6, expectedGeneration);
            return p.executeUpdate() == 1;
          }
        });
  }

  /** Slot 1 or 2 if one of the principal's slots of {@code scope} is free; else null. */
  private static Integer freeSlot(
      Connection c, String accountId, String principal, AccessKeyScope scope) throws SQLException {
    Set<Integer> taken = new HashSet<>();
    try (PreparedStatement p =
        c.prepareStatement(
            "SELECT active_slot FROM access_keys WHERE account_id = ? AND principal = ?"
                + " AND scope = ? AND active_slot IS NOT NULL")) {
      p.setString(1, accountId);
      p.setString(2, principal);
      p.setString(3, scope.name());
      try (ResultSet rs = p.executeQuery()) {
        while (rs.next()) {
          taken.add(rs.getInt(1));
        }
      }
    }
    for (int slot = 1; slot <= MAX_ACTIVE; slot++) {
      if (!taken.contains(slot)) {
        return slot;
      }
    }
    return null;
  }

  /**
   * Runs {@code write} again once when it lost a slot to a concurrent writer (the slot's unique
   * constraint): the second run sees the slot taken.
   */
  private static boolean onceMoreIfASlotWasTaken(java.util.function.BooleanSupplier write) {
    try {
      return write.getAsBoolean();
    } catch (KeyAlreadyExistsException e) {
      return write.getAsBoolean();
    }
  }

  private List<AccessKeyRecord> select(String where, String... values) {
    return tx.read("cannot read access keys", c -> selectIn(c, where, values));
  }

  private static List<AccessKeyRecord> selectIn(Connection c, String where, String... values)
      throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement("SELECT " + COLUMNS + " FROM access_keys " + where)) {
      for (int i = 0; i < values.length; i++) {
        p.setString(i + 1, values[i]);
      }
      List<AccessKeyRecord> out = new ArrayList<>();
      try (ResultSet rs = p.executeQuery()) {
        while (rs.next()) {
          rs.getInt(5);
          boolean active = !rs.wasNull();
          out.add(
              new AccessKeyRecord(
                  rs.getString(1),
                  rs.getString(2),
                  rs.getString(3),
                  AccessKeyScope.valueOf(rs.getString(4)),
                  active,
                  fromMicros(rs.getLong(6)),
                  rs.getInt(7),
                  DomainKeyKind.valueOf(rs.getString(8)),
                  rs.getInt(9),
                  rs.getBytes(10)));
        }
      }
      return out;
    }
  }
}
