package io.p11kms.server.store;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Stores as earlier releases made them, for migration tests: the schema of the release whose last
 * migration was a given version, and the rows of a store copied into it as that release held them
 * (the columns it had).
 */
public final class ReleasedSchemas {
  private ReleasedSchemas() {}

  /**
   * Makes the schema of the release whose last migration was {@code version}, in a new database.
   */
  public static void create(String url, int version) throws Exception {
    try (Connection c = JdbcKeyStoreTest.connect(url)) {
      migrateTo(c, url, version);
    }
  }

  /** Applies the migrations up to {@code version} as the release that stopped there did. */
  static void migrateTo(Connection c, String url, int version) throws Exception {
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

  /**
   * Copies the rows of every table of {@code to} (but schema_version) from {@code from}, only the
   * columns {@code to} has: the data of {@code from} as the older release held it.
   */
  public static void copyRows(String from, String to) throws Exception {
    try (Connection source = JdbcKeyStoreTest.connect(from);
        Connection target = JdbcKeyStoreTest.connect(to)) {
      List<String> tables = tables(target.getMetaData());
      // Keys first: the other tables refer to them.
      tables.remove("keys");
      tables.add(0, "keys");
      for (String table : tables) {
        List<String> columns = columns(target.getMetaData(), table);
        String names = String.join(", ", columns);
        String marks = String.join(", ", columns.stream().map(c -> "?").toList());
        try (Statement s = source.createStatement();
            ResultSet rs = s.executeQuery("SELECT " + names + " FROM " + table);
            PreparedStatement insert =
                target.prepareStatement(
                    "INSERT INTO " + table + " (" + names + ") VALUES (" + marks + ")")) {
          while (rs.next()) {
            for (int i = 1; i <= columns.size(); i++) {
              insert.setObject(i, rs.getObject(i));
            }
            insert.executeUpdate();
          }
        }
      }
    }
  }

  private static List<String> tables(DatabaseMetaData meta) throws Exception {
    List<String> out = new ArrayList<>();
    try (ResultSet rs = meta.getTables(null, null, "%", new String[] {"TABLE"})) {
      while (rs.next()) {
        String name = rs.getString("TABLE_NAME").toLowerCase(Locale.ROOT);
        if (!name.startsWith("sqlite_") && !name.equals("schema_version")) {
          out.add(name);
        }
      }
    }
    return out;
  }

  static List<String> columns(DatabaseMetaData meta, String table) throws Exception {
    List<String> columns = new ArrayList<>();
    try (ResultSet rs = meta.getColumns(null, null, table, null)) {
      while (rs.next()) {
        columns.add(rs.getString("COLUMN_NAME").toLowerCase(Locale.ROOT));
      }
    }
    return columns;
  }
}
