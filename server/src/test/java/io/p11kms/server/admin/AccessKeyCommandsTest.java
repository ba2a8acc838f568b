package io.p11kms.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import io.p11kms.server.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code p11kms access-key create|list|disable|enable|delete} against a real token and SQLite
 * store: the secret is printed once by create and never again, the account defaults to the
 * configured one, two active keys per principal.
 */
class AccessKeyCommandsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ALICE = "arn:aws:iam::123456789012:user/alice";
  private static SoftHsmTestToken token;

  @TempDir Path dir;
  private Path config;

  @BeforeAll
  static void createToken() {
    token = SoftHsmTestToken.create();
  }

  @AfterAll
  static void closeToken() {
    token.close();
  }

  @BeforeEach
  void writeConfig() throws Exception {
    config = dir.resolve("p11kms.properties");
    Files.writeString(
        config,
        "hsm.module="
            + token.modulePath()
            + "\nhsm.token.label="
            + token.label()
            + "\nhsm.pin.file="
            + token.userPinFile()
            + "\nstore.jdbc.url=jdbc:sqlite:"
            + dir.resolve("keys.db")
            + "\narn.account=123456789012\n");
  }

  private record Run(int exitCode, String out, String err) {
    JsonNode json() throws Exception {
      return JSON.readTree(out);
    }
  }

  private Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream savedOut = System.out;
    PrintStream savedErr = System.err;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      CommandLine cli = new CommandLine(new Main());
      cli.setErr(new java.io.PrintWriter(System.err, true));
      int code = cli.execute(args);
      return new Run(
          code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(savedOut);
      System.setErr(savedErr);
    }
  }

  @Test
  void create_printsTheSecretOnce_listNeverDoes() throws Exception {
    Run created = run("access-key", "create", "--config", config.toString(), "--principal", ALICE);

    assertThat(created.exitCode()).as(created.err()).isZero();
    JsonNode key = created.json();
    String id = key.get("AccessKeyId").asText();
    String secret = key.get("SecretAccessKey").asText();
    assertThat(id).matches("AKIA[A-Z2-7]{16}");
    assertThat(secret).matches("[A-Za-z0-9+/]{44}");
    assertThat(key.get("Principal").asText()).isEqualTo(ALICE);
    assertThat(key.get("Account").asText()).isEqualTo("123456789012");
    assertThat(key.get("Scope").asText()).isEqualTo("KMS_API");
    assertThat(key.get("Status").asText()).isEqualTo("Active");

    Run list = run("access-key", "list", "--config", config.toString());
    assertThat(list.exitCode()).isZero();
    assertThat(list.json().get("AccessKeys")).hasSize(1);
    assertThat(list.json().get("AccessKeys").get(0).get("AccessKeyId").asText()).isEqualTo(id);
    assertThat(list.out()).doesNotContain(secret).doesNotContain("SecretAccessKey");
    assertThat(Files.readString(dir.resolve("keys.db"), StandardCharsets.ISO_8859_1))
        .doesNotContain(secret);
  }

  @Test
  void xks_andAnExplicitAccount() throws Exception {
    Run account =
        run(
            "account",
            "create",
            "--config",
            config.toString(),
            "--name",
            "xks-owner",
            "--id",
            "444455556666");
    assertThat(account.exitCode()).as(account.err()).isZero();
    Run created =
        run(
            "access-key",
            "create",
            "--config",
            config.toString(),
            "--principal",
            "xks-store-1",
            "--account",
            "444455556666",
            "--xks");

    assertThat(created.exitCode()).as(created.err()).isZero();
    assertThat(created.json().get("Scope").asText()).isEqualTo("XKS");
    assertThat(created.json().get("Account").asText()).isEqualTo("444455556666");
  }

  @Test
  void create_inAnAccountThatDoesNotExist_isRefused() throws Exception {
    Run created =
        run(
            "access-key",
            "create",
            "--config",
            config.toString(),
            "--principal",
            ALICE,
            "--account",
            "999988887777");

    assertThat(created.exitCode()).isEqualTo(1);
    assertThat(created.err()).contains("account 999988887777 does not exist");
    assertThat(run("access-key", "list", "--config", config.toString()).json().get("AccessKeys"))
        .isEmpty();
  }

  @Test
  void disableEnableDelete_andTheLimitOfTwo() throws Exception {
    String c = config.toString();
    String first =
        run("access-key", "create", "--config", c, "--principal", ALICE)
            .json()
            .get("AccessKeyId")
            .asText();
    run("access-key", "create", "--config", c, "--principal", ALICE);

    Run third = run("access-key", "create", "--config", c, "--principal", ALICE);
    assertThat(third.exitCode()).isEqualTo(1);
    assertThat(third.err()).contains("already has 2 active");

    Run disabled = run("access-key", "disable", "--config", c, "--access-key-id", first);
    assertThat(disabled.exitCode()).isZero();
    assertThat(disabled.json().get("Status").asText()).isEqualTo("Inactive");
    assertThat(run("access-key", "create", "--config", c, "--principal", ALICE).exitCode())
        .isZero();
    assertThat(run("access-key", "enable", "--config", c, "--access-key-id", first).exitCode())
        .isEqualTo(1);

    Run deleted = run("access-key", "delete", "--config", c, "--access-key-id", first);
    assertThat(deleted.exitCode()).isZero();
    Run again = run("access-key", "delete", "--config", c, "--access-key-id", first);
    assertThat(again.exitCode()).isEqualTo(1);
    assertThat(again.err()).contains("no access key '" + first + "'");
  }
}
