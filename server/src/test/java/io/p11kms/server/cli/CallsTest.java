package io.p11kms.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CallsTest {
  @TempDir Path dir;

  @Test
  void fileErrors_sayWhatIsWrong_notOnlyThePath() {
    assertThat(Calls.describe(new NoSuchFileException("/in/x"), null))
        .isEqualTo("no such file: /in/x");
    assertThat(Calls.describe(new AccessDeniedException("/in/x"), null))
        .isEqualTo("permission denied: /in/x");
    assertThat(Calls.describe(new FileAlreadyExistsException("/out/y"), null))
        .isEqualTo("/out/y exists; not overwritten");
    assertThat(Calls.describe(new IOException("disk full"), Path.of("/out/y")))
        .isEqualTo("disk full");
  }

  @Test
  void inputFile_missingOrADirectory_isNamed() throws Exception {
    Path file = Files.writeString(dir.resolve("a.txt"), "a");

    assertThat(Calls.notAnInputFile(file)).isNull();
    assertThat(Calls.notAnInputFile(dir.resolve("missing")))
        .isEqualTo("no such file: " + dir.resolve("missing"));
    assertThat(Calls.notAnInputFile(dir)).isEqualTo("not a file: " + dir);
  }
}
