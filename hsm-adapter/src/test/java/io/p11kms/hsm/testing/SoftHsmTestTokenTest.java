package io.p11kms.hsm.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fixture for child-process servers: a token in a given folder, no library loaded here. */
class SoftHsmTestTokenTest {

  @Test
  void createInDirectory_initialisesTokenThereWithoutLoadingTheLibrary(@TempDir Path dir)
      throws Exception {
    try (SoftHsmTestToken token = SoftHsmTestToken.createInDirectory(dir)) {
      assertThat(token.confPath()).isEqualTo(dir.resolve("softhsm2.conf").toAbsolutePath());
      assertThat(Files.readString(token.confPath()))
          .contains("directories.tokendir = " + dir.resolve("tokens").toAbsolutePath());
      assertThat(token.label()).matches("p11kms-test-[0-9a-f]{8}");
      assertThat(Files.getPosixFilePermissions(token.userPinFile()))
          .containsExactlyInAnyOrder(
              PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
      assertThat(token.soPin()).isNotEmpty().isNotSameAs(token.soPin());
      assertThat(token.hsmConfig().tokenLabel()).isEqualTo(token.label());
      assertThat(showSlots(token.confPath())).contains(token.label());
    }
    assertThat(dir.resolve("tokens")).doesNotExist();
  }

  private static String showSlots(Path conf) throws Exception {
    ProcessBuilder builder = new ProcessBuilder("softhsm2-util", "--show-slots");
    builder.environment().put("SOFTHSM2_CONF", conf.toString());
    builder.redirectErrorStream(true);
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    process.waitFor();
    return output;
  }
}
