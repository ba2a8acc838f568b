package io.p11kms.server.store;

import static io.p11kms.server.store.KeyRows.VERSION_COLUMNS;
import static io.p11kms.server.store.SqlValues.toMicros;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Domain-key rotation on the store's side: finding the EKTs still under an older domain-key
 * generation, replacing them with re-wrapped ones (each a compare-and-set on its generation), and
 * the record of generations no EKT refers to any more.
 */
final class DomainKeyRepository {
  private final Transactions tx;

  DomainKeyRepository(Transactions tx) {
    this.tx = tx;
  }

  List<KeyVersionRecord> findVersionsBelowGeneration(
      int generation, java.util.UUID afterVersionId, int limit) {
    return tx.read(
        "cannot find versions to re-wrap",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "SELECT "
                      + VERSION_COLUMNS
                      + " FROM key_versions WHERE domain_key_generation < ? AND version_id > ?"
                      + " ORDER BY version_id "
                      + tx.dialect().limitParameter())) {
            p.setInt(1, generation);
            p.setString(2, afterVersionId == null ? "" : afterVersionId.toString());
            p.setInt(3, limit);
            List<KeyVersionRecord> versions = new ArrayList<>();
            try (ResultSet rs = p.executeQuery()) {
              while (rs.next()) {
                versions.add(KeyRows.version(rs));
              }
            }
            return versions;
          }
        });
  }

  int replaceEkts(List<Map.Entry<KeyVersionRecord, KeyVersionRecord>> rewrapped) {
    KeyRecord.requireNonNull(rewrapped, "re-wrapped versions");
    return tx.inWriteTransaction(
        "cannot store re-wrapped EKTs",
        c -> {
          int replaced = 0;
          try (PreparedStatement p =
              c.prepareStatement(
                  "UPDATE key_versions SET domain_key_generation = ?, wrap_mechanism = ?, ekt = ?,"
                      + " domain_key_kind = ? WHERE version_id = ? AND domain_key_generation = ?")) {
            for (Map.Entry<KeyVersionRecord, KeyVersionRecord> e : rewrapped) {
              KeyVersionRecord old = e.getKey();
              KeyVersionRecord now = e.getValue();
              if (!old.versionId().equals(now.versionId())) {
                throw new IllegalArgumentException("a re-wrapped version must keep its id");
              }
              p.setInt(1, now.domainKeyGeneration());
              p.setInt(2, now.wrapMechanismCode());
              p.setBytes(3, now.ekt());
              p.setString(4, now.domainKeyKind().name());
              p.setString(5, old.versionId().toString());
              p.setInt(6, old.domainKeyGeneration());
              replaced += p.executeUpdate();
            }
          }
          return replaced;
        });
  }

  Map<Integer, Long> countVersionsByGeneration() {
    return tx.read(
        "cannot count versions by generation",
        c -> {
          try (Statement s = c.createStatement();
              ResultSet rs =
                  s.executeQuery(
                      "SELECT domain_key_generation, COUNT(*) FROM key_versions"
                          + " GROUP BY domain_key_generation")) {
            Map<Integer, Long> counts = new TreeMap<>();
            while (rs.next()) {
              counts.put(rs.getInt(1), rs.getLong(2));
            }
            return counts;
          }
        });
  }

  boolean retireDomainKey(int generation, Instant at) {
    KeyRecord.requireNonNull(at, "retirement time");
    return tx.inWriteTransaction(
        "cannot record the retired domain key",
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "INSERT INTO retired_domain_keys (generation, retired_at) VALUES (?, ?)"
                      + " ON CONFLICT (generation) DO NOTHING")) {
            p.setInt(1, generation);
            p.setLong(2, toMicros(at));
            return p.executeUpdate() == 1;
          }
        });
  }

  List<Integer> retiredDomainKeys() {
    return tx.read(
        "cannot read retired domain keys",
        c -> {
          try (Statement s = c.createStatement();
              ResultSet rs =
                  s.executeQuery(
                      "SELECT generation FROM retired_domain_keys ORDER BY generation")) {
            List<Integer> retired = new ArrayList<>();
            while (rs.next()) {
              retired.add(rs.getInt(1));
            }
            return retired;
          }
        });
  }
}
