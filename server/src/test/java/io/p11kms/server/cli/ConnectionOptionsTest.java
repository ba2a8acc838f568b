package io.p11kms.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

class ConnectionOptionsTest {
  @Command(name = "probe")
  static final class Probe {
    @Mixin ConnectionOptions connection;
  }

  private static ConnectionOptions parse(String... args) {
    Probe probe = new Probe();
    new CommandLine(probe).parseArgs(args);
    return probe.connection;
  }

  @Test
  void oneEndpoint_asBefore() {
    assertThat(parse("--endpoint", "kms.example:7443").endpoints())
        .containsExactly("kms.example:7443");
  }

  @Test
  void severalEndpoints_repeatedOrCommaSeparated_replaceTheDefault() {
    assertThat(parse("--endpoint", "a:1,b:2", "--endpoint", "c:3").endpoints())
        .containsExactly("a:1", "b:2", "c:3");
  }

  @Test
  void noEndpoint_isTheDefaultOne() {
    assertThat(parse().endpoints()).hasSize(1);
  }

  @Test
  void emptyEndpoint_isRefused() {
    assertThatThrownBy(() -> parse("--endpoint", "a:1,,b:2").endpoints())
        .isInstanceOf(CliException.class)
        .hasMessageContaining("empty endpoint");
    assertThatThrownBy(() -> parse("--endpoint", "a:1,").endpoints())
        .hasMessageContaining("empty endpoint");
  }
}
