package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.testing.TempDirs;
import io.p11kms.server.config.ConfigException;
import io.p11kms.server.config.SecurityConfig;
import io.p11kms.server.http.HttpAnswer;
import io.p11kms.server.http.HttpCall;
import io.p11kms.server.http.HttpHandler;
import io.p11kms.server.http.HttpListener;
import io.p11kms.server.http.ListenerSecurity;
import io.p11kms.server.http.ListenerSecurity.ClientCertificates;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The HTTP listener on real ports with real TLS: plaintext only on loopback in development mode,
 * TLS from the gRPC listener's files, and client certificates not asked for, optional or required,
 * as the front end chooses; the handler sees the verified client certificate.
 */
class HttpListenerIT {

  private static Path dir;
  private static TestPki pki;
  private static TestPki rogue;
  private static SecurityConfig tls;
  private static SecurityConfig dev;

  @BeforeAll
  static void pki() throws Exception {
    dir = Files.createTempDirectory("p11kms-http-it");
    pki = TestPki.create(dir, "test");
    rogue = TestPki.create(dir, "rogue");
    TestPki.Issued server = pki.server();
    Path audit = dir.resolve("audit.log");
    tls =
        SecurityConfig.builder(audit).mutualTls(server.cert(), server.key(), pki.caFile()).build();
    dev = SecurityConfig.builder(audit).devMode(true).build();
  }

  @AfterAll
  static void cleanUp() throws Exception {
    TempDirs.deleteTree(dir);
  }

  @Test
  void developmentMode_plaintextOnLoopback_servesWithoutServerVersion() throws Exception {
    try (HttpListener listener = start(ListenerSecurity.of(dev, ClientCertificates.NONE))) {
      HttpResponse<String> response =
          get(HttpClient.newBuilder(), "http://127.0.0.1:" + listener.port() + "/");
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("client certificate: none");
      assertThat(response.headers().firstValue("Server")).isEmpty();
    }
  }

  @Test
  void plaintext_offLoopback_refused() {
    assertThatThrownBy(
            () ->
                HttpListener.start(
                    "test",
                    "0.0.0.0",
                    0,
                    ListenerSecurity.of(dev, ClientCertificates.NONE),
                    2,
                    new Echo()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("loopback");
  }

  @Test
  void neitherTlsNorDevelopmentMode_refused() {
    SecurityConfig plain = SecurityConfig.builder(dev.auditFile()).build();
    assertThatThrownBy(() -> ListenerSecurity.of(plain, ClientCertificates.NONE))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(SecurityConfig.DEV_MODE);
  }

  @Test
  void tls_clientCertificatesRequired_refusesWithoutOne_seesTheOneSent() throws Exception {
    try (HttpListener listener = start(ListenerSecurity.of(tls, ClientCertificates.REQUIRED))) {
      String url = "https://localhost:" + listener.port() + "/";
      HttpResponse<String> response = get(client(pki.client("alice", "spiffe://t/alice")), url);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("client certificate: CN=alice");
      assertThatThrownBy(() -> get(client(null), url)).isInstanceOf(IOException.class);
      assertThatThrownBy(() -> get(client(rogue.client("mallory", "spiffe://t/m")), url))
          .isInstanceOf(IOException.class);
    }
  }

  @Test
  void tls_clientCertificatesOptional_servesEither_neverSeesAnUntrustedOne() throws Exception {
    try (HttpListener listener = start(ListenerSecurity.of(tls, ClientCertificates.OPTIONAL))) {
      String url = "https://localhost:" + listener.port() + "/";
      assertThat(get(client(pki.client("bob", "spiffe://t/bob")), url).body())
          .isEqualTo("client certificate: CN=bob");
      assertThat(get(client(null), url).body()).isEqualTo("client certificate: none");
      // The server names its CA; a certificate of another CA is not taken for a client's.
      assertThat(get(client(rogue.client("eve", "spiffe://t/e")), url).body())
          .isEqualTo("client certificate: none");
    }
  }

  @Test
  void tls_clientCertificatesNotAskedFor_servesWithoutOne() throws Exception {
    try (HttpListener listener = start(ListenerSecurity.of(tls, ClientCertificates.NONE))) {
      String url = "https://localhost:" + listener.port() + "/";
      assertThat(get(client(null), url).body()).isEqualTo("client certificate: none");
      // Not asked for, a certificate the client holds is not sent.
      assertThat(get(client(pki.client("carol", "spiffe://t/carol")), url).body())
          .isEqualTo("client certificate: none");
    }
  }

  private static HttpListener start(ListenerSecurity security) {
    return HttpListener.start("test", "127.0.0.1", 0, security, 2, new Echo());
  }

  /** Answers with the subject of the client's certificate, or "none". */
  private static final class Echo implements HttpHandler {
    @Override
    public HttpAnswer handle(HttpCall request) {
      X509Certificate client = request.clientCertificate();
      return HttpAnswer.of(
          200,
          "text/plain",
          ("client certificate: "
                  + (client == null ? "none" : client.getSubjectX500Principal().getName()))
              .getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public HttpAnswer refusal(int status) {
      return HttpAnswer.of(
          status, "text/plain", ("refused " + status).getBytes(StandardCharsets.UTF_8));
    }
  }

  private static HttpResponse<String> get(HttpClient.Builder client, String url) throws Exception {
    return client
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10))
        .build()
        .send(
            HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
  }

  /** A client trusting the test CA, with {@code cert} as its certificate (null: none). */
  private static HttpClient.Builder client(TestPki.Issued cert) throws Exception {
    return HttpClient.newBuilder().sslContext(pki.clientContext(cert));
  }
}
