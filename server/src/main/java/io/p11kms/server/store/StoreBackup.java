package io.p11kms.server.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Backup and restore of a key store: every row of every table (keys, key versions with their EKTs,
 * aliases, tags, tombstones, and whatever tables later migrations add), as JSON lines.
 *
 * <p>Safe to write to a file: the store holds metadata and EKTs, and an EKT is a backing key
 * wrapped under a domain key that never leaves the token. A backup is useless without the token (or
 * an HSM holding the same domain key).
 *
 * <p>Format ({@code docs/store-backup.md}): the first line is a header {@code {"format":
 * "p11kms-store-backup", "formatVersion": 1, "schemaVersion": n, "tables": [{"name", "columns",
 * "rows"}]}}; then one line per row {@code {"table": name, "values": [...]}}, tables in an order
 * that satisfies their foreign keys. Byte values are {@code {"base64": "..."}}.
 *
 * <p>Import goes only into an empty store of the same schema version, in one transaction, and
 * checks the row count of every table against the header before it commits.
 */
public final class StoreBackup {
  /** The {@code format} of the header line. */
  public static final String FORMAT = "p11kms-store-backup";

  /** The version of this file format. */
  public static final int FORMAT_VERSION = 1;

  private static final String SCHEMA_VERSION_TABLE = "schema_version";
  private static final ObjectMapper JSON = new ObjectMapper();

  private StoreBackup() {}

  /** Rows per table, in the order written or read. */
  public record Counts(Map<String, Long> rows) {
    public Counts {
      rows = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(rows));
    }

    public long of(String table) {
      return rows.getOrDefault(table, 0L);
    }
  }

  /**
   * Writes every row of the store at {@code jdbcUrl} to {@code out}, from one consistent read
   * transaction (a running server may keep writing meanwhile).
   */
  public static Counts export(String jdbcUrl, BufferedWriter out) throws IOException {
    KeyStores.open(jdbcUrl).close(); // Brings the schema up to date, or refuses a newer one.
    try (Connection c = dialect(jdbcUrl).connect()) {
      c.setAutoCommit(false);
      try {
        List<String> tables = tablesInDependencyOrder(c);
        ObjectNode header = JSON.createObjectNode();
        header.put("format", FORMAT);
        header.put("formatVersion", FORMAT_VERSION);
        header.put("schemaVersion", schemaVersion(c));
        ArrayNode tableList = header.putArray("tables");
        Map<String, Long> counts = new LinkedHashMap<>();
        for (String table : tables) {
          ObjectNode t = tableList.addObject();
          t.put("name", table);
          ArrayNode columns = t.putArray("columns");
          columns(c, table).forEach(columns::add);
          long rows = count(c, table);
          t.put("rows", rows);
          counts.put(table, rows);
        }
        writeLine(out, header);
        for (String table : tables) {
          List<String> columns = columns(c, table);
          try (Statement s = c.createStatement();
              ResultSet rs =
                  s.executeQuery("SELECT " + quoteAll(columns) + " FROM " + quote(table))) {
            while (rs.next()) {
              ObjectNode row = JSON.createObjectNode();
              row.put("table", table);
              ArrayNode values = row.putArray("values");
              for (int i = 1; i <= columns.size(); i++) {
                values.add(toJson(rs.getObject(i)));
              }
              writeLine(out, row);
            }
          }
        }
        out.flush();
        return new Counts(counts);
      } finally {
        c.rollback();
      }
    } catch (SQLException e) {
      throw new KeyStoreException("cannot export the key store: " + e.getMessage(), e);
    }
  }

  /**
   * Reads a backup into the store at {@code jdbcUrl}, which must be empty (it is created if absent)
   * and of the backup's schema version. All or nothing.
   *
   * @throws KeyStoreException when the store is not empty, the versions differ, the file is not a
   *     backup, or the counts do not match the header
   */
  public static Counts importInto(String jdbcUrl, BufferedReader in) throws IOException {
    String first = in.readLine();
    if (first == null) {
      throw new KeyStoreException("the backup file is empty");
    }
    JsonNode header = JSON.readTree(first);
    if (!FORMAT.equals(header.path("format").asText())) {
      throw new KeyStoreException("not a p11kms store backup (no '" + FORMAT + "' header)");
    }
    if (header.path("formatVersion").asInt() != FORMAT_VERSION) {
      throw new KeyStoreException(
          "backup format version "
              + header.path("formatVersion").asText()
              + " is not supported; this version reads "
              + FORMAT_VERSION);
    }
    Map<String, Long> expected = new LinkedHashMap<>();
    Map<String, List<String>> columnsByTable = new LinkedHashMap<>();
    for (JsonNode t : header.path("tables")) {
      expected.put(t.path("name").asText(), t.path("rows").asLong());
      List<String> columns = new ArrayList<>();
      t.path("columns").forEach(col -> columns.add(col.asText()));
      columnsByTable.put(t.path("name").asText(), columns);
    }
    KeyStores.open(jdbcUrl).close(); // Creates the schema of this server.
    try (Connection c = dialect(jdbcUrl).connect()) {
      int schema = schemaVersion(c);
      if (schema != header.path("schemaVersion").asInt()) {
        throw new KeyStoreException(
            "the backup has schema version "
                + header.path("schemaVersion").asInt()
                + ", this store "
                + schema
                + ": restore with the p11kms version that made the backup");
      }
      Set<String> present = new TreeSet<>(tablesInDependencyOrder(c));
      for (String table : present) {
        if (count(c, table) > 0) {
          throw new KeyStoreException(
              "the target store is not empty (table "
                  + table
                  + " has rows); import needs an"
                  + " empty store");
        }
      }
      for (String table : expected.keySet()) {
        if (!present.contains(table)) {
          throw new KeyStoreException("the target store has no table " + table);
        }
      }
      c.setAutoCommit(false);
      try {
        Map<String, Long> actual = new LinkedHashMap<>();
        Map<String, PreparedStatement> inserts = new LinkedHashMap<>();
        try {
          String line;
          while ((line = in.readLine()) != null) {
            if (line.isBlank()) {
              continue;
            }
            JsonNode row = JSON.readTree(line);
            String table = row.path("table").asText();
            List<String> columns = columnsByTable.get(table);
            if (columns == null) {
              throw new KeyStoreException("row of table " + table + " not named in the header");
            }
            PreparedStatement insert = inserts.get(table);
            if (insert == null) {
              insert =
                  c.prepareStatement(
                      "INSERT INTO "
                          + quote(table)
                          + " ("
                          + quoteAll(columns)
                          + ") VALUES ("
                          + "?, ".repeat(columns.size() - 1)
                          + "?)");
              inserts.put(table, insert);
            }
            JsonNode values = row.path("values");
            if (values.size() != columns.size()) {
              throw new KeyStoreException("row of table " + table + " has the wrong column count");
            }
            for (int i = 0; i < columns.size(); i++) {
              bind(insert, i + 1, values.get(i));
            }
            insert.executeUpdate();
            actual.merge(table, 1L, Long::sum);
          }
        } finally {
          for (PreparedStatement p : inserts.values()) {
            p.close();
          }
        }
        for (var entry : expected.entrySet()) {
          long got = count(c, entry.getKey());
          if (got != entry.getValue()) {
            throw new KeyStoreException(
                "table "
                    + entry.getKey()
                    + ": the backup announces "
                    + entry.getValue()
                    + " rows, "
                    + got
                    + " were imported (truncated file?)");
          }
        }
        c.commit();
        Map<String, Long> counts = new LinkedHashMap<>();
        expected.keySet().forEach(t -> counts.put(t, actual.getOrDefault(t, 0L)));
        return new Counts(counts);
      } catch (RuntimeException | SQLException | IOException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw new KeyStoreException("cannot import into the key store: " + e.getMessage(), e);
    }
  }

  private static SqlDialect dialect(String jdbcUrl) {
    if (jdbcUrl == null || !jdbcUrl.startsWith(SqliteDialect.PREFIX)) {
      throw new IllegalArgumentException("unsupported database; supported: jdbc:sqlite:<file>");
    }
    return new SqliteDialect(jdbcUrl);
  }

  private static void writeLine(BufferedWriter out, JsonNode node) throws IOException {
    out.write(JSON.writeValueAsString(node));
    out.newLine();
  }

  private static JsonNode toJson(Object value) {
    if (value == null) {
      return JSON.nullNode();
    }
    if (value instanceof byte[] bytes) {
      return JSON.createObjectNode().put("base64", Base64.getEncoder().encodeToString(bytes));
    }
    if (value instanceof Integer || value instanceof Long || value instanceof Short) {
      return JSON.getNodeFactory().numberNode(((Number) value).longValue());
    }
    if (value instanceof Number n) {
      return JSON.getNodeFactory().numberNode(n.doubleValue());
    }
    return JSON.getNodeFactory().textNode(value.toString());
  }

  private static void bind(PreparedStatement p, int index, JsonNode value) throws SQLException {
    if (value == null || value.isNull()) {
      p.setNull(index, Types.NULL);
    } else if (value.isObject() && value.has("base64")) {
      p.setBytes(index, Base64.getDecoder().decode(value.get("base64").asText()));
    } else if (value.isIntegralNumber()) {
      p.setLong(index, value.asLong());
    } else if (value.isNumber()) {
      p.setDouble(index, value.asDouble());
    } else {
      p.setString(index, value.asText());
    }
  }

  private static int schemaVersion(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT MAX(version) FROM " + SCHEMA_VERSION_TABLE)) {
      return rs.next() ? rs.getInt(1) : 0;
    }
  }

  private static long count(Connection c, String table) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + quote(table))) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static List<String> columns(Connection c, String table) throws SQLException {
    List<String> columns = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT * FROM " + quote(table) + " WHERE 1 = 0")) {
      ResultSetMetaData meta = rs.getMetaData();
      for (int i = 1; i <= meta.getColumnCount(); i++) {
        columns.add(meta.getColumnName(i));
      }
    }
    return columns;
  }

  /** The store's tables except schema_version, each after the tables its foreign keys name. */
  private static List<String> tablesInDependencyOrder(Connection c) throws SQLException {
    DatabaseMetaData meta = c.getMetaData();
    Set<String> tables = new TreeSet<>();
    try (ResultSet rs = meta.getTables(null, null, "%", new String[] {"TABLE"})) {
      while (rs.next()) {
        String name = rs.getString("TABLE_NAME");
        if (!name.startsWith("sqlite_") && !name.equalsIgnoreCase(SCHEMA_VERSION_TABLE)) {
          tables.add(name);
        }
      }
    }
    Map<String, Set<String>> dependsOn = new LinkedHashMap<>();
    for (String table : tables) {
      Set<String> parents = new TreeSet<>();
      try (ResultSet rs = meta.getImportedKeys(null, null, table)) {
        while (rs.next()) {
          String parent = rs.getString("PKTABLE_NAME");
          if (parent != null && !parent.equals(table) && tables.contains(parent)) {
            parents.add(parent);
          }
        }
      }
      dependsOn.put(table, parents);
    }
    LinkedHashSet<String> ordered = new LinkedHashSet<>();
    while (ordered.size() < tables.size()) {
      boolean progress = false;
      for (String table : tables) {
        if (!ordered.contains(table) && ordered.containsAll(dependsOn.get(table))) {
          ordered.add(table);
          progress = true;
        }
      }
      if (!progress) {
        // A cycle: keep the rest in name order (SQLite checks foreign keys only when asked).
        ordered.addAll(tables);
      }
    }
    return new ArrayList<>(ordered);
  }

  private static String quoteAll(List<String> identifiers) {
    return String.join(", ", identifiers.stream().map(StoreBackup::quote).toList());
  }

  private static String quote(String identifier) {
    if (!identifier.matches("[A-Za-z_][A-Za-z0-9_]*")) {
      throw new KeyStoreException("unexpected table or column name: " + identifier);
    }
    return identifier;
  }
}
