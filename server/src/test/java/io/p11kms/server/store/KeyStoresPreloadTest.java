package io.p11kms.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Preloading the store's driver, done while the token opens, opens and creates nothing: a server
 * whose token then fails to open leaves no database behind, and open works as before after it.
 */
class KeyStoresPreloadTest {
  @TempDir Path temp;

  @Test
  void preload_createsNothing_andOpenWorksAfterIt() throws Exception {
    Path file = temp.resolve("sub").resolve("keys.db");
    String url = "jdbc:sqlite:" + file;

    KeyStores.preload(url);
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().equals("p11kms-store-preload")) {
        t.join(30_000);
      }
    }

    assertThat(temp.resolve("sub")).doesNotExist();
    try (var store = KeyStores.open(url)) {
      assertThat(store.countKeys()).isZero();
    }
    assertThat(Files.exists(file)).isTrue();
  }
}
