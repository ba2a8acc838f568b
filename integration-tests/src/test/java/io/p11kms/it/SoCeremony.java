package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.testing.SoftHsmTestToken;
import io.p11kms.hsm.testing.TempDirs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * The security officer's {@code p11kms init-domain-key} on a test server's token, in a child JVM as
 * an operator would run it (an SO login cannot share the server's process).
 */
final class SoCeremony {
  private SoCeremony() {}

  /** Creates domain key generation {@code generation} (both domain keys) on the token. */
  static void createGeneration(SoftHsmTestToken token, int generation) throws Exception {
    Path dir = Files.createTempDirectory("p11kms-so");
    Path pinFile = dir.resolve("so.pin");
    Files.createFile(
        pinFile,
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    char[] pin = token.soPin();
    try {
      Files.writeString(pinFile, new String(pin));
    } finally {
      Arrays.fill(pin, '\0');
    }
    Path log = dir.resolve("ceremony.log");
    ProcessBuilder builder =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "io.p11kms.server.Main",
                "init-domain-key",
                "--module",
                token.modulePath().toString(),
                "--token-label",
                token.label(),
                "--so-pin-file",
                pinFile.toString(),
                "--generation",
                Integer.toString(generation))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    builder.environment().put("SOFTHSM2_CONF", token.confPath().toString());
    Process ceremony = builder.start();
    try {
      assertThat(ceremony.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(ceremony.exitValue()).as(Files.readString(log)).isZero();
    } finally {
      ceremony.destroyForcibly();
      TempDirs.deleteTree(dir);
    }
  }
}
