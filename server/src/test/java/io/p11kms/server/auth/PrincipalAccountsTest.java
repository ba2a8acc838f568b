package io.p11kms.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.server.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrincipalAccountsTest {
  private static final String DEFAULT = "111122223333";

  @Test
  void spiffeAccountPath_namesTheAccount() {
    PrincipalAccounts accounts = PrincipalAccounts.allIn(DEFAULT);
    assertThat(accounts.accountOf("spiffe://corp.example/account/444455556666/billing"))
        .isEqualTo("444455556666");
    assertThat(accounts.accountOf("spiffe://corp.example/account/444455556666"))
        .isEqualTo("444455556666");
  }

  @Test
  void principalNamingNoAccount_isInTheDefaultAccount() {
    PrincipalAccounts accounts = PrincipalAccounts.allIn(DEFAULT);
    assertThat(accounts.accountOf("spiffe://corp.example/billing")).isEqualTo(DEFAULT);
    assertThat(accounts.accountOf("spiffe://corp.example/account/4444/x")).isEqualTo(DEFAULT);
    assertThat(accounts.accountOf("spiffe://corp.example/x/account/444455556666/y"))
        .isEqualTo(DEFAULT);
    assertThat(accounts.accountOf("CN=app,O=Example")).isEqualTo(DEFAULT);
  }

  @Test
  void mappedSubject_isInItsAccount() {
    PrincipalAccounts accounts =
        new PrincipalAccounts(DEFAULT, Map.of("CN=app,O=Example", "777788889999"));
    assertThat(accounts.accountOf("CN=app,O=Example")).isEqualTo("777788889999");
    assertThat(accounts.accountOf("CN=other,O=Example")).isEqualTo(DEFAULT);
  }

  @Test
  void readMapping_takesTheLastWordAsTheAccount(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("accounts");
    Files.writeString(
        file, "# principals\n\nCN=billing app,O=Example 777788889999\nCN=x\t444455556666\n");
    assertThat(PrincipalAccounts.readMapping(file))
        .isEqualTo(Map.of("CN=billing app,O=Example", "777788889999", "CN=x", "444455556666"));
  }

  @Test
  void readMapping_malformedLine_namesIt(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("accounts");
    Files.writeString(file, "CN=a 777788889999\nCN=b 7777\n");
    assertThatThrownBy(() -> PrincipalAccounts.readMapping(file))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("line 2");
  }
}
