package io.p11kms.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import picocli.CommandLine;

/**
 * The docs' commands are the CLI's commands: every {@code p11kms ...} line in a code block of the
 * README, a module's README or docs/ parses against the real command tree (parsed only, never run).
 * A line that leaves a part out ({@code ...}) may lack required options, nothing more.
 */
class DocumentedCommandsTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static List<DocumentedCommands.Command> commands;

  /** The command tree, built once (it is large); parsing resets it to its initial values. */
  private static final CommandLine CLI = Main.commandLine();

  @BeforeAll
  static void readDocs() throws IOException {
    List<Path> files = new ArrayList<>();
    files.add(ROOT.resolve("README.md"));
    try (Stream<Path> modules = Files.list(ROOT)) {
      modules.map(m -> m.resolve("README.md")).filter(Files::isRegularFile).forEach(files::add);
    }
    try (Stream<Path> docs = Files.walk(ROOT.resolve("docs"))) {
      docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
    }
    commands = new ArrayList<>();
    for (Path file : files.stream().distinct().toList()) {
      commands.addAll(DocumentedCommands.of(file, ROOT.relativize(file).toString()));
    }
  }

  @Test
  void theDocsHaveCommandsToCheck() {
    assertThat(commands).hasSizeGreaterThan(50);
    assertThat(commands).anyMatch(c -> c.where().startsWith("README.md:"));
  }

  @TestFactory
  Stream<DynamicTest> everyDocumentedCommand_parses() {
    return commands.stream().map(c -> DynamicTest.dynamicTest(c.toString(), () -> parses(c)));
  }

  @Test
  void aCommandTheCliDoesNotHave_isCaught() {
    DocumentedCommands.Command wrong =
        DocumentedCommands.of("```\np11kms key create --multi-region\n```\n", "x.md").get(0);
    assertThatThrownBy(() -> parses(wrong)).isInstanceOf(AssertionError.class);
    DocumentedCommands.Command right =
        DocumentedCommands.of("```\np11kms kms create-key --multi-region\n```\n", "x.md").get(0);
    parses(right);
  }

  @Test
  void anOptionTheCommandDoesNotHave_isCaught() {
    DocumentedCommands.Command wrong =
        DocumentedCommands.of("```\n./p11kms kms describe-key --key K --verbose\n```\n", "x.md")
            .get(0);
    assertThatThrownBy(() -> parses(wrong)).isInstanceOf(AssertionError.class);
  }

  @Test
  void aMissingRequiredOption_isCaught_unlessTheLineLeavesAPartOut() {
    String full =
        "p11kms region trust --config a.properties --so-pin-file so.pin --region b"
            + " --transport-key b.transport --expect-fingerprint sha256:00";
    parses(DocumentedCommands.of("```\n" + full + "\n```\n", "x.md").get(0));
    String missing = "p11kms region trust --config a.properties --expect-fingerprint sha256:00";
    DocumentedCommands.Command wrong =
        DocumentedCommands.of("```\n" + missing + "\n```\n", "x.md").get(0);
    assertThatThrownBy(() -> parses(wrong))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("--region");
    parses(
        DocumentedCommands.of(
                "```\np11kms region trust ... --expect-fingerprint sha256:00\n```\n", "x.md")
            .get(0));
  }

  @Test
  void commandsAreFoundWhereAShellRunsThem_andOnlyThere() {
    String markdown =
        String.join(
            "\n",
            "p11kms kms list-keys",
            "```",
            "key_id=$(./p11kms kms create-key --description \"a b\" | jq -r .keyMetadata.keyId)",
            "./p11kms kms encrypt --key-id \"$key_id\" \\",
            "    --plaintext fileb://s.txt   # the file",
            "p11kms account list --config a.properties ; p11kms account list --config b.properties",
            "clients (p11kms kms --endpoint a:7443)  |  p11kms   |",
            "p11kms init-domain-key --module <lib> --expect-fingerprint sha256:<from B, read out>",
            "p11kms verify-audit --config FILE [--audit-file F]...",
            "```",
            "```",
            "$ p11kms region list --config r.properties",
            "p11kms region trust failed: not a command, its output",
            "$ p11kms region trust ... --expect-fingerprint sha256:0000",
            "```");
    List<DocumentedCommands.Command> found = DocumentedCommands.of(markdown, "x.md");
    assertThat(found)
        .extracting(DocumentedCommands.Command::args)
        .containsExactly(
            List.of("kms", "create-key", "--description", "a b"),
            List.of("kms", "encrypt", "--key-id", "$key_id", "--plaintext", "fileb://s.txt"),
            List.of("account", "list", "--config", "a.properties"),
            List.of("account", "list", "--config", "b.properties"),
            List.of(
                "init-domain-key",
                "--module",
                "<lib>",
                "--expect-fingerprint",
                "sha256:<from B, read out>"),
            List.of("verify-audit", "--config", "FILE", "--audit-file", "F"),
            List.of("region", "list", "--config", "r.properties"),
            List.of("region", "trust", "--expect-fingerprint", "sha256:0000"));
    assertThat(found).extracting(DocumentedCommands.Command::where).startsWith("x.md:3", "x.md:4");
    assertThat(found)
        .extracting(DocumentedCommands.Command::elided)
        .containsExactly(false, false, false, false, false, true, false, true);
  }

  private static void parses(DocumentedCommands.Command command) {
    try {
      CLI.parseArgs(command.args().toArray(String[]::new));
    } catch (CommandLine.MissingParameterException e) {
      if (!command.elided()) {
        fail(command + "\n  " + e.getMessage());
      }
    } catch (CommandLine.ParameterException e) {
      fail(command + "\n  " + e.getMessage());
    }
  }
}
