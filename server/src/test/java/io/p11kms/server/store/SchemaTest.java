package io.p11kms.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
            "next_rotation_date",
            "account",
            "key_manager",
            "service"));
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
    RELEASED.put(
        "aliases", List.of("seq", "account", "alias_name", "key_id", "created_at", "updated_at"));
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
            "created_at",
            "account"));
    RELEASED.put("leases", List.of("name", "owner", "expires_at"));
    RELEASED.put("accounts", List.of("account_id", "name", "key_accounts", "created_at"));
    RELEASED.put("services", List.of("name", "account", "principals", "created_at"));
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
    RELEASED.put(
        "imported_key_material",
        List.of(
            "key_id", "version_id", "check_value", "expiration_model", "valid_to", "imported_at"));
    RELEASED.put(
        "multi_region_keys",
        List.of(
            "key_id",
            "primary_region",
            "replica_regions",
            "updated_at",
            "updating_to",
            "revision"));
    RELEASED.put("multi_region_replications", List.of("key_id", "region", "started_at"));
    RELEASED.put("multi_region_announcements", List.of("key_id", "region"));
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
    assertThat(Migrations.latestVersion()).isEqualTo(13);
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

  @Test
  void aStoreOfTheReleaseBeforeAccounts_keepsItsKeysAliasesAndGrantsInTheDefaultAccount()
      throws Exception {
    store.close();
    String old = newDatabaseUrl();
    UUID keyId = UUID.randomUUID();
    try (Connection c = JdbcKeyStoreTest.connect(old)) {
      migrateTo(c, old, 8);
      try (Statement s = c.createStatement()) {
        s.executeUpdate(
            "INSERT INTO keys (key_id, creation_date, description, key_usage, key_spec,"
                + " key_state, origin) VALUES ('"
                + keyId
                + "', 0, 'old', 'ENCRYPT_DECRYPT', 'SYMMETRIC_DEFAULT', 'ENABLED', 'AWS_KMS')");
        s.executeUpdate(
            "INSERT INTO aliases (alias_name, key_id, created_at, updated_at) VALUES"
                + " ('alias/first', '"
                + keyId
                + "', 1, 1), ('alias/second', '"
                + keyId
                + "', 2, 2)");
        s.executeUpdate(
            "INSERT INTO grants (grant_id, key_id, grantee, operations, grant_token,"
                + " created_at) VALUES ('g1', '"
                + keyId
                + "', 'someone', 'Encrypt', 'token-1', 0)");
      }
    }

    store = KeyStores.open(old);

    KeyRecord key = store.findKey(keyId).orElseThrow();
    assertThat(key.account()).isEqualTo(KeyRecord.DEFAULT_ACCOUNT);
    assertThat(key.keyManager()).isEqualTo(KeyRecord.CUSTOMER);
    assertThat(key.service()).isNull();
    assertThat(store.findAlias("alias/first").orElseThrow().keyId()).isEqualTo(keyId);
    assertThat(
            store.listAliases(Optional.empty(), 10, Optional.empty()).items().stream()
                .map(AliasRecord::aliasName))
        .containsExactly("alias/first", "alias/second");
    assertThat(store.listKeys(KeyRecord.DEFAULT_ACCOUNT, 10, Optional.empty()).keys())
        .extracting(KeyRecord::keyId)
        .containsExactly(keyId);
    assertThat(store.access().findGrant("g1")).isPresent();
    try (Connection c = JdbcKeyStoreTest.connect(old);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT account FROM grants WHERE grant_id = 'g1'")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEmpty();
    }
  }

  @Test
  void aliasNames_areUniquePerAccount() {
    KeyRecord a = accountKey("444455556666");
    KeyRecord b = accountKey("777788889999");
    Instant now = Instant.now();
    assertThat(
            store.createAlias(
                new AliasRecord("alias/app", a.keyId(), now, now, a.account()), "ENABLED"))
        .isTrue();
    assertThat(
            store.createAlias(
                new AliasRecord("alias/app", b.keyId(), now, now, b.account()), "ENABLED"))
        .isTrue();
    assertThat(store.findAlias(a.account(), "alias/app").orElseThrow().keyId())
        .isEqualTo(a.keyId());
    assertThat(store.findAlias(b.account(), "alias/app").orElseThrow().keyId())
        .isEqualTo(b.keyId());
    assertThat(store.findAlias("alias/app")).isEmpty();
    assertThatThrownBy(
            () ->
                store.createAlias(
                    new AliasRecord("alias/app", a.keyId(), now, now, a.account()), "ENABLED"))
        .isInstanceOf(AliasAlreadyExistsException.class);
    assertThat(store.listKeys(a.account(), 10, Optional.empty()).keys())
        .extracting(KeyRecord::keyId)
        .containsExactly(a.keyId());
  }

  private KeyRecord accountKey(String account) {
    UUID keyId = UUID.randomUUID();
    KeyRecord key =
        new KeyRecord(
            keyId,
            Instant.now(),
            "",
            "ENCRYPT_DECRYPT",
            "SYMMETRIC_DEFAULT",
            "ENABLED",
            "AWS_KMS",
            null,
            null,
            account,
            KeyRecord.CUSTOMER,
            null);
    store.createKey(key, version(keyId, 1));
    return key;
  }

  private static void migrateTo(Connection c, String url, int version) throws Exception {
    ReleasedSchemas.migrateTo(c, url, version);
  }

  private static List<String> columns(DatabaseMetaData meta, String table) throws Exception {
    return ReleasedSchemas.columns(meta, table);
  }
}
