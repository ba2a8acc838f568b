package io.p11kms.server.access;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.server.auth.PrincipalAccounts;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyStores;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Security is always on: there is no access control without an audit log. */
class AccessControlTest {
  @Test
  void noAuditLog_isRefused() {
    try (KeyStore store = KeyStores.open("jdbc:sqlite::memory:")) {
      assertThatThrownBy(
              () ->
                  new AccessControl(
                      true,
                      List.of(),
                      PrincipalAccounts.allIn("111122223333"),
                      null,
                      store,
                      new KeyArns("aws", "local-1", "111122223333"),
                      Clock.systemUTC(),
                      null,
                      RefusalAuditLimit.withDefaults()))
          .isInstanceOf(NullPointerException.class)
          .hasMessage("audit");
    }
  }
}
