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
                      + " deleted_at BIGINT NOT NULL)")),
          new Migration(
              3,
              "rotation: automatic rotation schedule, rotation history, retired domain keys",
              List.of(
                  // Days between automatic rotations; null while automatic rotation is off.
                  "ALTER TABLE keys ADD COLUMN rotation_period_days INTEGER",
                  // When the next automatic rotation is due; null while it is off. A rotation
                  // is a compare-and-set on this value, so one due date gives one rotation.
                  "ALTER TABLE keys ADD COLUMN next_rotation_date BIGINT",
                  // One row per rotation, written with its key_versions row in one transaction.
                  "CREATE TABLE key_rotations ("
                      + " seq {SEQ},"
                      + " key_id VARCHAR(36) NOT NULL REFERENCES keys (key_id),"
                      + " version_id VARCHAR(36) NOT NULL UNIQUE,"
                      + " rotation_date BIGINT NOT NULL,"
                      + " rotation_type VARCHAR(16) NOT NULL)",
                  "CREATE INDEX key_rotations_by_key ON key_rotations (key_id)",
                  "CREATE INDEX key_versions_by_generation"
                      + " ON key_versions (domain_key_generation)",
                  // Domain-key generations that no EKT refers to any more (after a re-wrap).
                  "CREATE TABLE retired_domain_keys ("
                      + " generation INTEGER NOT NULL PRIMARY KEY,"
                      + " retired_at BIGINT NOT NULL)")),
          new Migration(
              4,
              "key policies and grants",
              List.of(
                  // One policy document per key (PolicyName "default"). No foreign key: the rows of
                  // a deleted key stay behind, unused (key ids are never reused).
                  "CREATE TABLE key_policies ("
                      + " key_id VARCHAR(36) NOT NULL PRIMARY KEY,"
                      + " policy VARCHAR(32768) NOT NULL,"
                      + " updated_at BIGINT NOT NULL)",
                  // operations: comma-separated operation names; constraints: JSON or null.
                  "CREATE TABLE grants ("
                      + " grant_id VARCHAR(64) NOT NULL PRIMARY KEY,"
                      + " key_id VARCHAR(36) NOT NULL,"
                      + " name VARCHAR(256),"
                      + " grantee VARCHAR(1024) NOT NULL,"
                      + " retiring VARCHAR(1024),"
                      + " operations VARCHAR(1024) NOT NULL,"
                      + " constraints VARCHAR(8192),"
                      + " grant_token VARCHAR(128) NOT NULL UNIQUE,"
                      + " created_at BIGINT NOT NULL)",
                  "CREATE INDEX grants_by_key ON grants (key_id)",
                  "CREATE INDEX grants_by_retiring ON grants (retiring)")),
          new Migration(
              5,
              "leases: scheduled work runs on one server at a time",
              List.of(
                  // One row per kind of scheduled work; expires_at in microseconds, by the
                  // holder's clock. See Leases.
                  "CREATE TABLE leases ("
                      + " name VARCHAR(64) NOT NULL PRIMARY KEY,"
                      + " owner VARCHAR(200) NOT NULL,"
                      + " expires_at BIGINT NOT NULL)")),
          new Migration(
              6,
              "asymmetric and HMAC keys: domain key kind and public key of a key version",
              List.of(
                  // SYMMETRIC (domain-key/<n>: backing keys) or ASYMMETRIC (domain-key-asym/<n>:
                  // private and HMAC keys); the wrap mechanism is already in wrap_mechanism.
                  "ALTER TABLE key_versions ADD COLUMN domain_key_kind VARCHAR(16) NOT NULL"
                      + " DEFAULT 'SYMMETRIC'",
                  // DER SubjectPublicKeyInfo of an RSA or ECC key: public material, in clear.
                  "ALTER TABLE key_versions ADD COLUMN public_key {BYTES}")),
          new Migration(
              7,
              "external key store: keys exposed to the XKS proxy API",
              List.of(
                  // One row per exposed key: the external key id the XKS API names it by (unique
                  // on this proxy), the key, and the usages it allows (ENCRYPT, DECRYPT or both,
                  // comma-separated). No foreign key, as key_policies: a deleted key's row names
                  // no key, and the XKS API finds none.
                  "CREATE TABLE xks_keys ("
                      + " external_key_id VARCHAR(128) NOT NULL PRIMARY KEY,"
                      + " key_id VARCHAR(36) NOT NULL UNIQUE,"
                      + " key_usage VARCHAR(32) NOT NULL,"
                      + " created_at BIGINT NOT NULL)")),
          new Migration(
              8,
              "access keys: SigV4 credentials of principals, their secrets wrapped in the token",
              List.of(
                  // scope: KMS_API or XKS. active_slot: 1 or 2 while the key is active, null
                  // while it is inactive; the unique constraint keeps a principal at two active
                  // keys of a scope whoever writes (nulls never collide). secret_ekt: "AWS4" +
                  // the secret as an HMAC key wrapped under the domain key domain_key_kind of
                  // generation domain_key_generation; the secret itself is stored nowhere.
                  "CREATE TABLE access_keys ("
                      + " access_key_id VARCHAR(30) NOT NULL PRIMARY KEY,"
                      + " account_id VARCHAR(12) NOT NULL,"
                      + " principal VARCHAR(1024) NOT NULL,"
                      + " scope VARCHAR(16) NOT NULL,"
                      + " active_slot INTEGER,"
                      + " created_at BIGINT NOT NULL,"
                      + " domain_key_generation INTEGER NOT NULL,"
                      + " domain_key_kind VARCHAR(16) NOT NULL,"
                      + " wrap_mechanism INTEGER NOT NULL,"
                      + " secret_ekt {BYTES} NOT NULL,"
                      + " UNIQUE (account_id, principal, scope, active_slot))")),
          new Migration(
              9,
              "accounts: every key, alias and grant in an account; key managers; services",
              List.of(
                  // Accounts an operator created. The default account (arn.account) has no row:
                  // keys, aliases and grants of the default account hold an empty account, so a
                  // store made before accounts existed keeps its keys there. key_accounts:
                  // comma-separated ids of the accounts whose keys this account's principals may
                  // use when those keys' policies let them in.
                  "CREATE TABLE accounts ("
                      + " account_id VARCHAR(12) NOT NULL PRIMARY KEY,"
                      + " name VARCHAR(256) NOT NULL UNIQUE,"
                      + " key_accounts VARCHAR(4096) NOT NULL,"
                      + " created_at BIGINT NOT NULL)",
                  "ALTER TABLE keys ADD COLUMN account VARCHAR(12) NOT NULL DEFAULT ''",
                  // CUSTOMER, AWS (service-managed) or SERVICE_OWNED; service: the registered
                  // service of a service-managed or service-owned key, null for the others.
                  "ALTER TABLE keys ADD COLUMN key_manager VARCHAR(16) NOT NULL"
                      + " DEFAULT 'CUSTOMER'",
                  "ALTER TABLE keys ADD COLUMN service VARCHAR(64)",
                  "CREATE INDEX keys_by_account ON keys (account, seq)",
                  // Alias names are unique per account: the table is made again with the
                  // account in its unique key, the existing aliases in the default account and
                  // in the order they had.
                  "CREATE TABLE account_aliases ("
                      + " seq {SEQ},"
                      + " account VARCHAR(12) NOT NULL,"
                      + " alias_name VARCHAR(256) NOT NULL,"
                      + " key_id VARCHAR(36) NOT NULL REFERENCES keys (key_id),"
                      + " created_at BIGINT NOT NULL,"
                      + " updated_at BIGINT NOT NULL,"
                      + " UNIQUE (account, alias_name))",
                  "INSERT INTO account_aliases (account, alias_name, key_id, created_at,"
                      + " updated_at) SELECT '', alias_name, key_id, created_at, updated_at"
                      + " FROM aliases ORDER BY seq",
                  "DROP TABLE aliases",
                  "ALTER TABLE account_aliases RENAME TO aliases",
                  "CREATE INDEX aliases_by_key ON aliases (key_id)",
                  "CREATE INDEX aliases_by_account ON aliases (account, seq)",
                  // A grant is in its key's account.
                  "ALTER TABLE grants ADD COLUMN account VARCHAR(12) NOT NULL DEFAULT ''",
                  // Registered services: a name, the account the service's own keys are in, and
                  // the principals (comma-separated) that act as the service.
                  "CREATE TABLE services ("
                      + " name VARCHAR(64) NOT NULL PRIMARY KEY,"
                      + " account VARCHAR(12) NOT NULL,"
                      + " principals VARCHAR(8192) NOT NULL,"
                      + " created_at BIGINT NOT NULL)")),
          new Migration(
              10,
              "imported key material: check value, expiry, the version it is",
              List.of(
                  // One row per EXTERNAL key once material was first imported; kept while the
                  // material is deleted (the key is PENDING_IMPORT then, and the key_versions row
                  // is gone), so that only the same material imports again, as the same version.
                  // expiration_model is null while the key has no material; valid_to is null
                  // unless the material expires.
                  "CREATE TABLE imported_key_material ("
                      + " key_id VARCHAR(36) NOT NULL PRIMARY KEY REFERENCES keys (key_id),"
                      + " version_id VARCHAR(36) NOT NULL,"
                      + " check_value {BYTES} NOT NULL,"
                      + " expiration_model VARCHAR(32),"
                      + " valid_to BIGINT,"
                      + " imported_at BIGINT NOT NULL)",
                  "CREATE INDEX imported_key_material_by_valid_to"
                      + " ON imported_key_material (valid_to)")),
          new Migration(
              11,
              "multi-Region keys: the primary's region and the replicas' regions",
              List.of(
                  // One row per multi-Region key, primary or replica, in every region that holds
                  // it: the region of its primary and the regions of its replicas (comma
                  // separated, sorted), as this region last learnt them.
                  "CREATE TABLE multi_region_keys ("
                      + " key_id VARCHAR(36) NOT NULL PRIMARY KEY REFERENCES keys (key_id),"
                      + " primary_region VARCHAR(64) NOT NULL,"
                      + " replica_regions VARCHAR(4096) NOT NULL,"
                      + " updated_at BIGINT NOT NULL)")),
          new Migration(
              12,
              "multi-Region keys: the region a primary is handing its role over to",
              List.of(
                  // Set in the primary's region while UpdatePrimaryRegion hands the primary role
                  // to the replica in that region, until that region has taken it; null otherwise.
                  "ALTER TABLE multi_region_keys ADD COLUMN updating_to VARCHAR(64)")),
          new Migration(
              13,
              "multi-Region keys: replicas being made, and the regions still to tell",
              List.of(
                  // Counts every change of a key's primary or replicas here, so that a region's
                  // confirmation of an older configuration is not taken for the current one.
                  "ALTER TABLE multi_region_keys ADD COLUMN revision BIGINT NOT NULL DEFAULT 0",
                  // In the primary's region, while ReplicateKey makes the replica in that region:
                  // a primary with one is not deleted, as with a replica.
                  "CREATE TABLE multi_region_replications ("
                      + " key_id VARCHAR(36) NOT NULL REFERENCES keys (key_id),"
                      + " region VARCHAR(64) NOT NULL,"
                      + " started_at BIGINT NOT NULL,"
                      + " PRIMARY KEY (key_id, region))",
                  // The regions of a key that have not confirmed its configuration as this region
                  // knows it (its primary's region tells its replicas' regions, the old primary's
                  // the others a hand-over); told again at the next pass.
                  "CREATE TABLE multi_region_announcements ("
                      + " key_id VARCHAR(36) NOT NULL REFERENCES keys (key_id),"
                      + " region VARCHAR(64) NOT NULL,"
                      + " PRIMARY KEY (key_id, region))")));

  static String render(String sql, SqlDialect dialect) {
    return sql.replace("{SEQ}", dialect.sequencePrimaryKey())
        .replace("{BYTES}", dialect.bytesType());
  }

  static int latestVersion() {
    return ALL.get(ALL.size() - 1).version();
  }
}
