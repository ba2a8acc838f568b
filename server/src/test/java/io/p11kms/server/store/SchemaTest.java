package io.p11kms.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The schema a store has: every table and column as released, and a database at an older version
 * brought up to date with its rows kept. A change here breaks stores made by earlier releases.
 */
abstract class SchemaTest extends StoreContractPart {

  /** The tables and their columns, in order, as the released migrations make them. */
  private static final Map<String, List<String>> RELEASED = new LinkedHashMap<>();

  static {
    RELEASED.put("schema_version", List.of("version", "description", "applied_at"));
    RELEASED.put(
        "keys",
        List.of(
            "seq",
            "key_id",
            "creation_date",
            "description",
            "key_usage",
            "key_spec",
            "key_state",
            "origin",
            "deletion_date",
            "pending_window_days",
            "rotation_period_days",
            "next_rotation_date"));
    RELEASED.put(
        "key_versions",
        List.of(
            "key_id",
            "version_id",
            "version_number",
            "created_at",
            "domain_key_generation",
            "wrap_mechanism",
            "ekt",
            "domain_key_kind",
            "public_key"));
    RELEASED.put("aliases", List.of("seq", "alias_name", "key_id", "created_at", "updated_at"));
    RELEASED.put("key_tags", List.of("key_id", "tag_key", "tag_value"));
    RELEASED.put("deleted_keys", List.of("key_id", "deleted_at"));
    RELEASED.put(
        "key_rotations", List.of("seq", "key_id", "version_id", "rotation_date", "rotation_type"));
    RELEASED.put("retired_domain_keys", List.of("generation", "retired_at"));
    RELEASED.put("key_policies", List.of("key_id", "policy", "updated_at"));
    RELEASED.put(
        "grants",
        List.of(
            "grant_id",
            "key_id",
            "name",
            "grantee",
            "retiring",
            "operations",
            "constraints",
            "grant_token",
            "created_at"));
    RELEASED.put("leases", List.of("name", "owner", "expires_at"));
    RELEASED.put("xks_keys", List.of("external_key_id", "key_id", "key_usage", "created_at"));
    RELEASED.put(
        "access_keys",
        List.of(
            "access_key_id",
            "account_id",
            "principal",
            "scope",
            "active_slot",
            "created_at",
            "domain_key_generation",
            "domain_key_kind",
            "wrap_mechanism",
            "secret_ekt"));
  }

  @Test
  void everyTableAndColumn_isAsReleased() throws Exception {
    try (Connection c = JdbcKeyStoreTest.connect(url)) {
      for (Map.Entry<String, List<String>> table : RELEASED.entrySet()) {
        assertThat(columns(c.getMetaData(), table.getKey()))
            .as(table.getKey())
            .containsExactlyElementsOf(table.getValue());
      }
    }
    assertThat(Migrations.latestVersion()).isEqualTo(8);
  }

  @Test
  void aDatabaseOfAnOlderVersion_isMigrated_andKeepsItsRows() throws Exception {
    store.close();
    String old = newDatabaseUrl();
    UUID keyId = UUID.randomUUID();
    KeyVersionRecord first = version(keyId, 1);
    try (Connection c = JdbcKeyStoreTest.connect(old)) {
      migrateTo(c, old, 3);
      try (PreparedStatement p =
          c.prepareStatement(
              "INSERT INTO keys (key_id, creation_date, description, key_usage, key_spec,"
                  + " key_state, origin) VALUES (?, 0, 'old', 'ENCRYPT_DECRYPT',"
                  + " 'SYMMETRIC_DEFAULT', 'ENABLED', 'AWS_KMS')")) {
        p.setString(1, keyId.toString());
        p.executeUpdate();
      }
      try (PreparedStatement p =
          c.prepareStatement(
              "INSERT INTO key_versions (key_id, version_id, version_number, created_at,"
                  + " domain_key_generation, wrap_mechanism, ekt) VALUES (?, ?, 1, ?, 1, 1, ?)")) {
        p.setString(1, keyId.toString());
        p.setString(2, first.versionId().toString());
        p.setLong(3, SqlValues.toMicros(first.createdAt()));
        p.setBytes(4, first.ekt());
        p.executeUpdate();
      }
    }

    store = KeyStores.open(old);

    assertThat(((JdbcKeyStore) store).schemaVersion()).isEqualTo(Migrations.latestVersion());
    assertThat(store.findKey(keyId).orElseThrow().description()).isEqualTo("old");
    KeyVersionRecord read = store.findLatestVersion(keyId).orElseThrow();
    assertThat(read).isEqualTo(first);
    assertThat(read.domainKeyKind()).isEqualTo(DomainKeyKind.SYMMETRIC);
    assertThat(store.access().findPolicy(keyId)).isEmpty();
    assertThat(store.leases().tryAcquire("work", "me", Instant.EPOCH, Duration.ZERO)).isTrue();
  }

  /** Applies the migrations up to {@code version} as the release that stopped there did. */
  private static void migrateTo(Connection c, String url, int version) throws Exception {
    SqlDialect dialect =
        url.startsWith(SqliteDialect.PREFIX)
            ? new SqliteDialect(url)
            : new PostgresDialect(StoreSettings.of(url));
    try (Statement s = c.createStatement()) {
      s.execute(Migrations.CREATE_SCHEMA_VERSION);
      for (Migrations.Migration m : Migrations.ALL.subList(0, version)) {
        for (String sql : m.statements()) {
          s.execute(Migrations.render(sql, dialect));
        }
        s.executeUpdate(
            "INSERT INTO schema_version (version, description, applied_at) VALUES ("
                + m.version()
                + ", 'm', 0)");
      }
    }
  }

  private static List<String> columns(DatabaseMetaData meta, String table) throws Exception {
    List<String> columns = new ArrayList<>();
    try (ResultSet rs = meta.getColumns(null, null, table, null)) {
      while (rs.next()) {
        columns.add(rs.getString("COLUMN_NAME").toLowerCase(Locale.ROOT));
      }
    }
    return columns;
  }
}
