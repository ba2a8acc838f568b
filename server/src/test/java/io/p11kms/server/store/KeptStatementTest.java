package io.p11kms.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The statements {@link Transactions#query} keeps per connection, on a real SQLite file: a kept
 * statement is not cleared between uses. SQLite prepares a statement again after its parameters
 * were cleared when its plan looked at their values, which the key read's does: clearing them made
 * every key read that missed the cache pay for a preparation, three quarters of its CPU.
 */
class KeptStatementTest {
  private static final String SQL = "SELECT ?";

  @TempDir Path dir;

  @Test
  void aKeptStatement_keepsItsParametersBetweenUses() {
    SqlDialect sqlite = new SqliteDialect("jdbc:sqlite:" + dir.resolve("kept.db"));
    try (Transactions tx = new Transactions(sqlite, c -> {}, () -> {})) {
      String first =
          tx.query(
              "cannot read",
              SQL,
              p -> {
                p.setString(1, "bound once");
                return value(p.executeQuery());
              });
      // The same connection (none other was opened) and statement, run without binding again.
      String again = tx.query("cannot read", SQL, p -> value(p.executeQuery()));

      assertThat(first).isEqualTo("bound once");
      assertThat(again).isEqualTo("bound once");
    }
  }

  private static String value(ResultSet rs) throws SQLException {
    try (rs) {
      rs.next();
      return rs.getString(1);
    }
  }
}
