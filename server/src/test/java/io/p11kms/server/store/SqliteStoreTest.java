package io.p11kms.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store contract on SQLite (one file per test), and what only SQLite has. */
class SqliteStoreTest extends StoreContractTest {
  @TempDir static Path dir;
  private static final AtomicInteger FILES = new AtomicInteger();

  @Override
  protected String newDatabaseUrl() {
    return "jdbc:sqlite:" + dir.resolve("keys" + FILES.incrementAndGet() + ".db");
  }

  @Test
  void open_createsMissingParentFolders() {
    Path file = dir.resolve("a/b/c/keys.db");
    try (KeyStore other = KeyStores.open("jdbc:sqlite:" + file)) {
      other.createKey(
          StoreContractPart.key(UUID.randomUUID()),
          StoreContractPart.version(UUID.randomUUID(), 1));
    } catch (IllegalArgumentException expected) {
      // the version belongs to another key; the folder is what this test is about
    }
    assertThat(file).exists();
  }

  @Test
  void open_setsSqlitePragmas() throws Exception {
    String url = newDatabaseUrl();
    KeyStores.open(url).close();
    try (Connection c = new SqliteDialect(url).connect();
        Statement s = c.createStatement()) {
      assertThat(pragma(s, "journal_mode")).isEqualToIgnoringCase("wal");
      assertThat(pragma(s, "synchronous")).isEqualTo("2");
      assertThat(pragma(s, "foreign_keys")).isEqualTo("1");
      assertThat(Integer.parseInt(pragma(s, "busy_timeout"))).isPositive();
    }
  }

  @Test
  void open_unsupportedUrl_failsWithoutEchoingIt() {
    assertThatThrownBy(() -> KeyStores.open("jdbc:mysql://db/kms?password=hunter2"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageNotContaining("hunter2");
  }

  @Test
  void inMemory_works() {
    try (KeyStore memory = KeyStores.open("jdbc:sqlite::memory:")) {
      UUID id = UUID.randomUUID();
      memory.createKey(StoreContractPart.key(id), StoreContractPart.version(id, 1));
      assertThat(memory.findKey(id)).isPresent();
    }
  }

  private static String pragma(Statement s, String name) throws Exception {
    try (ResultSet rs = s.executeQuery("PRAGMA " + name)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
