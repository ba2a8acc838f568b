package io.p11kms.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MainTest {
  @TempDir Path dir;

  @Test
  void aFailedCommand_printsOneLineAndNoStackTrace() throws Exception {
    Path pinFile = Files.writeString(dir.resolve("so.pin"), "not-a-real-pin");
    StringWriter err = new StringWriter();
    CommandLine main = Main.commandLine();
    main.setErr(new PrintWriter(err, true));

    int code =
        main.execute(
            "init-domain-key",
            "--module",
            dir.resolve("no-such-module.so").toString(),
            "--token-label",
            "absent",
            "--so-pin-file",
            pinFile.toString());

    assertThat(code).isEqualTo(1);
    String printed = err.toString();
    assertThat(printed).startsWith("p11kms init-domain-key: ");
    assertThat(printed.strip().lines()).hasSize(1);
    assertThat(printed).doesNotContain("\tat ").doesNotContain("not-a-real-pin");
  }
}
