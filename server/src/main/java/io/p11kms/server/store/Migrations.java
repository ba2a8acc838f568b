package io.p11kms.server.store;

import java.util.List;

/**
 * The schema, as an ordered list of migrations. The server applies the ones a database lacks, each
 * in one transaction with its row in {@code schema_version}. Never edit a released migration; add
 * the next one. {@code {SEQ}} and {@code {BYTES}} are filled in by the {@link SqlDialect}.
 */
final class Migrations {
  private Migrations() {}

  record Migration(int version, String description, List<String> statements) {}

  static final String CREATE_SCHEMA_VERSION =
      "CREATE TABLE IF NOT EXISTS schema_version ("
          + " version INTEGER NOT NULL PRIMARY KEY,"
          + " description VARCHAR(200) NOT NULL,"
          + " applied_at BIGINT NOT NULL)";

  static final List<Migration> ALL =
      List.of(
          new Migration(
              1,
              "keys and key versions",
              List.of(
                  // seq gives creation order for ListKeys markers; times are microseconds since
                  // the epoch, UTC; enum-valued columns hold the enum's name.
                  "CREATE TABLE keys ("
                      + " seq {SEQ},"
                      + " key_id VARCHAR(36) NOT NULL UNIQUE,"
                      + " creation_date BIGINT NOT NULL,"
                      + " description VARCHAR(8192) NOT NULL,"
                      + " key_usage VARCHAR(64) NOT NULL,"
                      + " key_spec VARCHAR(64) NOT NULL,"
                      + " key_state VARCHAR(64) NOT NULL,"
                      + " origin VARCHAR(64) NOT NULL,"
                      + " deletion_date BIGINT)",
                  "CREATE TABLE key_versions ("
                      + " key_id VARCHAR(36) NOT NULL REFERENCES keys (key_id),"
                      + " version_id VARCHAR(36) NOT NULL PRIMARY KEY,"
                      + " version_number INTEGER NOT NULL,"
                      + " created_at BIGINT NOT NULL,"
                      + " domain_key_generation INTEGER NOT NULL,"
                      + " wrap_mechanism INTEGER NOT NULL,"
                      + " ekt {BYTES} NOT NULL,"
                      + " UNIQUE (key_id, version_number))")),
          new Migration(
              2,
              "key life cycle: deletion window, aliases, tags, deleted-key tombstones",
              List.of(
                  // Days of the deletion window while a key is PENDING_DELETION; null otherwise.
                  "ALTER TABLE keys ADD COLUMN pending_window_days INTEGER",
                  // seq gives creation order for ListAliases markers. Names are unique by
                  // constraint; the alias/aws/ prefix is reserved by the service, not here.
                  "CREATE TABLE aliases ("
                      + " seq {SEQ},"
                      + " alias_name VARCHAR(256) NOT NULL UNIQUE,"
                      + " key_id VARCHAR(36) NOT NULL REFERENCES keys (key_id),"
                      + " created_at BIGINT NOT NULL,"
                      + " updated_at BIGINT NOT NULL)",
                  "CREATE INDEX aliases_by_key ON aliases (key_id)",
                  "CREATE TABLE key_tags ("
                      + " key_id VARCHAR(36) NOT NULL REFERENCES keys (key_id),"
                      + " tag_key VARCHAR(128) NOT NULL,"
                      + " tag_value VARCHAR(256) NOT NULL,"
                      + " PRIMARY KEY (key_id, tag_key))",
                  // A deleted key leaves only its id and when it went: no metadata, no EKT.
                  // Decrypt tells a deleted key (NotFound) from a made-up one (InvalidCiphertext).
                  "CREATE TABLE deleted_keys ("
                      + " key_id VARCHAR(36) NOT NULL PRIMARY KEY,"
                      + " deleted_at BIGINT NOT NULL)"))
          // Next, as migration 3 and on (not written yet):
          // - rotation: keys.rotation_enabled, keys.rotation_period_days, keys.next_rotation_date
          //   and a key_rotations history (key_id, version_id, rotated_at, on_demand), a rotation
          //   writing its new key_versions row and history row in one transaction; the deletion
          //   of a key (JdbcKeyStore.deleteKey) must then delete its key_rotations rows too;
          // - key policies and grants.
          );

  static String render(String sql, SqlDialect dialect) {
    return sql.replace("{SEQ}", dialect.sequencePrimaryKey())
        .replace("{BYTES}", dialect.bytesType());
  }

  static int latestVersion() {
    return ALL.get(ALL.size() - 1).version();
  }
}
