package io.p11kms.server.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;

/**
 * Brings a database's schema to {@link Migrations#latestVersion()}: applies the migrations it
 * lacks, in one transaction that first takes the dialect's migration lock, and refuses a schema
 * newer than this server.
 */
final class SchemaMigrator {
  private final Transactions tx;

  SchemaMigrator(Transactions tx) {
    this.tx = tx;
  }

  void migrate() {
    SqlDialect dialect = tx.dialect();
    tx.inWriteTransaction(
        "cannot create or migrate the key store schema",
        c -> {
          dialect.lockForMigration(c);
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
              p.setLong(3, SqlValues.toMicros(Instant.now()));
              p.executeUpdate();
            }
          }
          return null;
        });
  }

  /** The schema version the database is at; 0 before any migration. */
  int schemaVersion() {
    return tx.read("cannot read the schema version", SchemaMigrator::schemaVersion);
  }

  private static int schemaVersion(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT MAX(version) FROM schema_version")) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
