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

  @Test
  void theWholeTree_hasEveryCommandInTheHelpsOrder() {
    assertThat(Main.commandLine().getSubcommands().keySet())
        .containsExactly(
            "serve",
            "init-domain-key",
            "rotate-domain-key",
            "domain-join",
            "region",
            "doctor",
            "verify-audit",
            "export-store",
            "import-store",
            "account",
            "service",
            "xks",
            "access-key",
            "kms");
    assertThat(Main.commandLine("kms", "list-keys").getSubcommands()).hasSize(14);
  }

  @Test
  void serve_buildsServeAlone_andParsesAndDescribesItAsTheWholeTreeDoes() {
    String[] args = {"serve", "--config", dir.resolve("p11kms.properties").toString(), "--dev"};
    CommandLine alone = Main.commandLine(args);
    CommandLine whole = Main.commandLine();

    assertThat(alone.getSubcommands().keySet()).containsExactly("serve");
    CommandLine serveAlone = alone.getSubcommands().get("serve");
    CommandLine serveInWhole = whole.getSubcommands().get("serve");
    assertThat(serveAlone.getUsageMessage()).isEqualTo(serveInWhole.getUsageMessage());
    assertThat(serveAlone.getExecutionExceptionHandler()).isNotNull();

    Main.Serve parsedAlone =
        alone.parseArgs(args).subcommand().commandSpec().commandLine().getCommand();
    Main.Serve parsedWhole =
        whole.parseArgs(args).subcommand().commandSpec().commandLine().getCommand();
    assertThat(parsedAlone.config)
        .isEqualTo(parsedWhole.config)
        .isEqualTo(dir.resolve("p11kms.properties"));
    assertThat(parsedAlone.dev).isTrue();
    assertThat(parsedWhole.dev).isTrue();
  }

  @Test
  void serveWithoutItsRequiredOption_failsAsInTheWholeTree() {
    StringWriter aloneErr = new StringWriter();
    StringWriter wholeErr = new StringWriter();
    CommandLine alone = Main.commandLine("serve");
    alone.setErr(new PrintWriter(aloneErr, true));
    CommandLine whole = Main.commandLine();
    whole.setErr(new PrintWriter(wholeErr, true));

    assertThat(alone.execute("serve")).isEqualTo(2).isEqualTo(whole.execute("serve"));
    assertThat(aloneErr.toString()).contains("--config").isEqualTo(wholeErr.toString());
  }
}
