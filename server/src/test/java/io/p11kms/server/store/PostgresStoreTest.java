package io.p11kms.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.server.testing.PostgresTestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store contract on a real PostgreSQL (one cluster for the class, one database per test), and
 * what only PostgreSQL has: the password from a file or a variable.
 */
class PostgresStoreTest extends StoreContractTest {
  static PostgresTestServer pg;

  @BeforeAll
  static void startPostgres() {
    pg = PostgresTestServer.start();
  }

  @AfterAll
  static void stopPostgres() {
    if (pg != null) {
      pg.close();
    }
  }

  @Override
  protected String newDatabaseUrl() {
    return pg.superuserUrl(pg.createDatabase());
  }

  @Test
  void passwordFromFile_opensAndAWrongOneFailsWithoutEchoingIt(@TempDir Path dir) throws Exception {
    String role = pg.createPasswordRole("kms_file", "s3cret-file-pw");
    Path good = Files.writeString(dir.resolve("good"), "s3cret-file-pw\n");
    try (KeyStore store = KeyStores.open(new StoreSettings(pg.jdbcUrl(role), role, good, null))) {
      UUID id = UUID.randomUUID();
      store.createKey(StoreContractPart.key(id), StoreContractPart.version(id, 1));
      assertThat(store.findKey(id)).isPresent();
    }
    Path wrong = Files.writeString(dir.resolve("wrong"), "not-the-pw-42");
    StoreSettings bad = new StoreSettings(pg.jdbcUrl(role), role, wrong, null);
    assertThatThrownBy(() -> KeyStores.open(bad))
        .isInstanceOf(KeyStoreException.class)
        .satisfies(e -> assertThat(chain(e)).doesNotContain("not-the-pw-42"));
    assertThat(bad.toString()).contains("file:" + wrong).doesNotContain("not-the-pw-42");
  }

  @Test
  void passwordFromUnsetVariable_failsNamingTheVariable() {
    String role = pg.createPasswordRole("kms_env", "s3cret-env-pw");
    StoreSettings settings =
        new StoreSettings(pg.jdbcUrl(role), role, null, "P11KMS_TEST_UNSET_STORE_PASSWORD");
    assertThatThrownBy(() -> KeyStores.open(settings))
        .isInstanceOf(KeyStoreException.class)
        .satisfies(e -> assertThat(chain(e)).contains("P11KMS_TEST_UNSET_STORE_PASSWORD"));
  }

  @Test
  void withoutPassword_aPasswordRoleIsRefused() {
    String role = pg.createPasswordRole("kms_none", "s3cret-none-pw");
    assertThatThrownBy(() -> KeyStores.open(new StoreSettings(pg.jdbcUrl(role), role, null, null)))
        .isInstanceOf(KeyStoreException.class);
  }

  @Test
  void serversStartingTogether_migrateOneAfterTheOther() throws Exception {
    String url = newDatabaseUrl();
    int servers = 4;
    CyclicBarrier start = new CyclicBarrier(servers);
    ExecutorService pool = Executors.newFixedThreadPool(servers);
    List<Future<KeyStore>> opened = new ArrayList<>();
    try {
      for (int i = 0; i < servers; i++) {
        opened.add(
            pool.submit(
                () -> {
                  start.await();
                  return KeyStores.open(url);
                }));
      }
      for (Future<KeyStore> f : opened) {
        f.get().close();
      }
    } finally {
      pool.shutdownNow();
    }
    try (Connection c = DriverManager.getConnection(url);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT COUNT(*), MAX(version) FROM schema_version")) {
      rs.next();
      assertThat(rs.getInt(1)).isEqualTo(Migrations.ALL.size());
      assertThat(rs.getInt(2)).isEqualTo(Migrations.latestVersion());
    }
  }

  @Test
  void connectionEndedByTheDatabase_failsOneCallAndIsDropped() {
    String database = pg.createDatabase();
    try (KeyStore store = KeyStores.open(pg.superuserUrl(database))) {
      assertThat(store.countKeys()).isZero();
      pg.execute(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '"
              + database
              + "'");
      try {
        store.countKeys();
      } catch (KeyStoreException expected) {
        // The pooled connection learns here that its backend is gone.
      }
      assertThat(store.countKeys()).isZero();
    }
  }

  /** Every message of the cause chain, as a log line with causes would print them. */
  static String chain(Throwable e) {
    StringBuilder b = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      b.append(t).append('\n');
    }
    return b.toString();
  }
}
