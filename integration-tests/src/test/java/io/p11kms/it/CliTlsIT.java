package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import io.p11kms.server.KmsServer;
import io.p11kms.server.Main;
import io.p11kms.server.config.SecurityConfig;
import io.p11kms.server.store.KeyStores;
import io.p11kms.server.tls.Tls;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The client's TLS options ({@code --ca}, {@code --cert}, {@code --key}) against a mutual TLS
 * server.
 */
class CliTlsIT {
  @TempDir Path dir;

  private record Run(int exitCode, String out, String err) {}

  private static Run kms(String... args) {
    List<String> all = new ArrayList<>(List.of("kms"));
    all.addAll(List.of(args));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream savedOut = System.out;
    PrintStream savedErr = System.err;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int code = new CommandLine(new Main()).execute(all.toArray(String[]::new));
      return new Run(
          code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(savedOut);
      System.setErr(savedErr);
    }
  }

  @Test
  void clientCertificateOptions_reachAMutualTlsServer_andWithoutThemTheCallFails()
      throws Exception {
    TestPki pki = TestPki.create(dir, "cli");
    TestPki.Issued serverCert = pki.server();
    TestPki.Issued client = pki.client("cli-client", "spiffe://p11kms.test/cli");
    SecurityConfig security =
        SecurityConfig.builder(dir.resolve("audit.log"))
            .mutualTls(serverCert.cert(), serverCert.key(), pki.caFile())
            .auditCheckpointRecords(5)
            .auditCheckpointInterval(Duration.ofMinutes(10))
            .build();
    try (SoftHsmTestToken token = SoftHsmTestToken.create()) {
      var hsm = Pkcs11Hsm.open(token.hsmConfig());
      var store = KeyStores.open("jdbc:sqlite:" + dir.resolve("kms.db"));
      KmsServer server =
          new KmsServer(
                  Tls.serverBuilder("127.0.0.1", 0, security),
                  hsm,
                  store,
                  KmsTestServer.ARNS,
                  Clock.systemUTC(),
                  Duration.ofSeconds(30),
                  KmsTestServer.allowingAll(hsm, store, Clock.systemUTC()))
              .start();
      String endpoint = "127.0.0.1:" + server.port();
      try {
        Run mutual =
            kms(
                "create-key",
                "--endpoint",
                endpoint,
                "--ca",
                pki.caFile().toString(),
                "--cert",
                client.cert().toString(),
                "--key",
                client.key().toString());
        assertThat(mutual.exitCode()).as(mutual.err()).isZero();
        assertThat(mutual.out()).contains("\"keyId\"");

        Run noClientCert =
            kms("list-keys", "--endpoint", endpoint, "--ca", pki.caFile().toString());
        assertThat(noClientCert.exitCode()).isEqualTo(255);

        Run plaintext = kms("list-keys", "--endpoint", endpoint, "--timeout", "5");
        assertThat(plaintext.exitCode()).isEqualTo(255);
      } finally {
        server.stop();
      }
    }
  }
}
