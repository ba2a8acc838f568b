package io.p11kms.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.testing.NssTestToken;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import io.p11kms.hsm.testing.TestToken;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code p11kms init-domain-key --config}: on NSS softoken (no SO, no custody) with the allowance
 * it makes the domain keys as the user and the adapter then opens the token; without the allowance,
 * or on a token that enforces custody (SoftHSM2), it refuses in one line and makes nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UserDomainKeyCeremonyTest {
  @TempDir Path dir;
  private NssTestToken nss;

  @BeforeAll
  void makeToken() {
    nss = NssTestToken.createWithoutDomainKey();
  }

  @AfterAll
  void deleteToken() {
    nss.close();
  }

  @Test
  void withoutTheAllowance_refusesAndNamesIt_thenWithIt_makesTheDomainKeysAsTheUser()
      throws Exception {
    Path strict = properties("strict.properties", nss, false, nss.initString());
    StringWriter err = new StringWriter();
    assertThat(run(strict, new StringWriter(), err)).isEqualTo(1);
    assertThat(err.toString().strip().lines()).hasSize(1);
    assertThat(err.toString())
        .startsWith("p11kms init-domain-key: ")
        .contains("hsm.custody.unenforced.allowed=true")
        .contains("--so-pin-file");

    Path allowed = properties("nss.properties", nss, true, nss.initString());
    StringWriter out = new StringWriter();
    assertThat(run(allowed, out, new StringWriter())).isZero();
    assertThat(out.toString())
        .contains("created domain-key/1 on token " + nss.label())
        .contains("created domain-key-asym/1")
        .contains("created domain-key-hmac/1");
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(nss.hsmConfig())) {
      assertThat(hsm.currentDomainKeyGeneration()).isEqualTo(1);
      assertThat(hsm.generateBackingKey().domainKeyGeneration()).isEqualTo(1);
    }

    StringWriter again = new StringWriter();
    assertThat(run(allowed, new StringWriter(), again)).isEqualTo(1);
    assertThat(again.toString()).contains("already exist");
  }

  @Test
  void onATokenThatEnforcesCustody_refusesEvenWithTheAllowance() throws Exception {
    try (SoftHsmTestToken softHsm = SoftHsmTestToken.createWithoutDomainKey()) {
      StringWriter err = new StringWriter();
      assertThat(
              run(properties("softhsm.properties", softHsm, true, null), new StringWriter(), err))
          .isEqualTo(1);
      assertThat(err.toString()).contains("enforces custody").contains("security officer");
    }
  }

  private int run(Path config, StringWriter out, StringWriter err) {
    CommandLine main = Main.commandLine();
    main.setOut(new PrintWriter(out, true));
    main.setErr(new PrintWriter(err, true));
    java.io.PrintStream stdout = System.out;
    java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
    System.setOut(new java.io.PrintStream(printed, true, StandardCharsets.UTF_8));
    try {
      return main.execute("init-domain-key", "--config", config.toString());
    } finally {
      System.setOut(stdout);
      out.write(printed.toString(StandardCharsets.UTF_8));
    }
  }

  private Path properties(String name, TestToken token, boolean allowed, String initString)
      throws Exception {
    StringBuilder text =
        new StringBuilder()
            .append("hsm.module=")
            .append(token.modulePath())
            .append('\n')
            .append("hsm.token.label=")
            .append(token.label())
            .append('\n')
            .append("hsm.pin.file=")
            .append(token.userPinFile())
            .append('\n')
            .append("store.jdbc.url=jdbc:sqlite:")
            .append(dir.resolve("p11kms.db"))
            .append('\n');
    if (initString != null) {
      text.append("hsm.module.init.string=").append(initString).append('\n');
    }
    if (allowed) {
      text.append("hsm.custody.unenforced.allowed=true\n");
    }
    return Files.writeString(dir.resolve(name), text, StandardCharsets.UTF_8);
  }
}
