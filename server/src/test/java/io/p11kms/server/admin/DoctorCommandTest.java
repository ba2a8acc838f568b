package io.p11kms.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.testing.SoftHsmTestToken;
import io.p11kms.server.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class DoctorCommandTest {
  private static SoftHsmTestToken token;

  @TempDir Path dir;

  @BeforeAll
  static void createToken() {
    token = SoftHsmTestToken.create();
  }

  @AfterAll
  static void closeToken() {
    token.close();
  }

  private Path config(String label, Path pinFile) throws Exception {
    Path file = dir.resolve("p11kms.properties");
    Files.writeString(
        file,
        "hsm.module="
            + token.modulePath()
            + "\nhsm.token.label="
            + label
            + "\nhsm.pin.file="
            + pinFile
            + "\n");
    return file;
  }

  private record Run(int exitCode, String out) {}

  private static Run run(String... args) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream saved = System.out;
    System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    try {
      int code = new CommandLine(new Main()).execute(args);
      return new Run(code, bytes.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(saved);
    }
  }

  @Test
  void doctor_healthyToken_exitsZeroAndReportsEveryCheck() throws Exception {
    Run run = run("doctor", "--config", config(token.label(), token.userPinFile()).toString());

    assertThat(run.exitCode()).isZero();
    assertThat(run.out())
        .contains("OK   mechanism CKM_AES_GCM")
        .contains("OK   derivation: NONE_AES_GCM")
        .contains("OK   login")
        .contains("OK   domain-key/1: attributes as required")
        .contains("result: OK")
        .doesNotContain("FAIL");
  }

  @Test
  void doctor_wrongPin_exitsOneAndNamesTheFailure() throws Exception {
    Path wrongPin = dir.resolve("wrong.pin");
    Files.writeString(wrongPin, "wrong-pin-123");
    Run run = run("doctor", "--config", config(token.label(), wrongPin).toString());

    assertThat(run.exitCode()).isEqualTo(DoctorCommand.EXIT_PROBLEM);
    assertThat(run.out()).contains("FAIL login: CKR_PIN_INCORRECT").doesNotContain("wrong-pin");
  }

  @Test
  void doctor_missingConfig_exitsTwo() {
    Run run = run("doctor", "--config", dir.resolve("absent.properties").toString());

    assertThat(run.exitCode()).isEqualTo(DoctorCommand.EXIT_CONFIG);
  }
}
