package io.p11kms.server.sigv4;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The verifier against requests signed by {@code curl --aws-sigv4}, as the XKS specification's test
 * client sends them: service {@code kms-xks-proxy}, {@code content-type;host;x-amz-date} signed,
 * the host with its port. The JDK's HTTP server here only records what curl sent.
 */
class CurlSigV4Test {
  private static final String ID = "AKIAXKSCURLTEST23456A";
  private static final String SECRET = "FYtE5EFA5FT0mCc3DrGUe2sti527BitkQ0Zr9MO9fvE";
  private static final String BODY =
      "{\"requestMetadata\":{\"kmsOperation\":\"KmsHealthCheck\",\"kmsRequestId\":\"1\"}}";

  @TempDir Path dir;
  private HttpServer recorder;
  private final AtomicReference<SignedRequest> received = new AtomicReference<>();
  private final SigV4Verifier verifier =
      new SigV4Verifier(
          new SecretSigningKeys("kms-xks-proxy", Map.of(ID, SECRET)),
          Clock.systemUTC(),
          "kms-xks-proxy",
          null,
          Set.of());

  @BeforeEach
  void startRecorder() throws IOException {
    recorder = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    recorder.createContext(
        "/",
        exchange -> {
          SignedRequest.Builder b =
              SignedRequest.builder(
                      exchange.getRequestMethod(), exchange.getRequestURI().getRawPath())
                  .rawQuery(exchange.getRequestURI().getRawQuery());
          exchange
              .getRequestHeaders()
              .forEach((name, values) -> values.forEach(v -> b.header(name, v)));
          received.set(b.body(exchange.getRequestBody().readAllBytes()).build());
          exchange.sendResponseHeaders(204, -1);
          exchange.close();
        });
    recorder.start();
  }

  @AfterEach
  void stopRecorder() {
    recorder.stop(0);
  }

  @Test
  void curlSignedXksCall_verifies() throws Exception {
    SignedRequest request = curl(SECRET, "/prefix/kms/xks/v1/health");

    assertThat(request.firstHeader("authorization"))
        .contains("/kms-xks-proxy/aws4_request")
        .contains("SignedHeaders=content-type;host;x-amz-date");
    assertThat(request.firstHeader("host")).endsWith(":" + recorder.getAddress().getPort());
    assertThat(verifier.verify(request).accessKeyId()).isEqualTo(ID);
  }

  @Test
  void curlSignedWithAnotherSecret_isInvalidSignature() throws Exception {
    SignedRequest request = curl(SECRET.replace('F', 'G'), "/kms/xks/v1/health");

    assertThatThrownBy(() -> verifier.verify(request))
        .isInstanceOfSatisfying(
            SigV4Exception.class,
            e -> assertThat(e.failure()).isEqualTo(SigV4Failure.INVALID_SIGNATURE));
  }

  private SignedRequest curl(String secret, String path) throws Exception {
    Path body = Files.writeString(dir.resolve("body.json"), BODY);
    // The credentials go through a config file, not the command line (ps would show them).
    Path config =
        Files.writeString(
            dir.resolve("curl.cfg"),
            "user = \"" + ID + ":" + secret + "\"\n",
            StandardCharsets.UTF_8);
    Process process;
    try {
      process =
          new ProcessBuilder(
                  List.of(
                      "curl",
                      "-sS",
                      "--config",
                      config.toString(),
                      "--aws-sigv4",
                      "aws:amz:us-east-1:kms-xks-proxy",
                      "-X",
                      "POST",
                      "-H",
                      "Content-Type:application/json",
                      "--data-binary",
                      "@" + body,
                      "http://127.0.0.1:" + recorder.getAddress().getPort() + path))
              .redirectErrorStream(true)
              .start();
    } catch (IOException e) {
      assumeTrue(false, "curl is not installed");
      throw e;
    }
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor()).as(output).isZero();
    SignedRequest request = received.get();
    assertThat(request).isNotNull();
    return request;
  }
}
