package io.p11kms.it;

import static io.p11kms.it.KmsSecureTestServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.p11kms.server.access.RefusalAuditLimit;
import io.p11kms.server.http.ListenerSecurity.ClientCertificates;
import io.p11kms.server.metrics.Metrics;
import io.p11kms.server.xks.XksConfig;
import io.p11kms.server.xks.XksFrontEnd;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.ListKeysResponse;

/**
 * A flood of requests that do not authenticate, from one client address, to the AWS JSON API and
 * the XKS proxy API over TLS: every one is refused, but only up to the bound per address is
 * recorded in the audit log; the rest are counted in a metric. Authenticated requests are recorded
 * as ever.
 */
class RefusedAuthenticationAuditIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String XKS_KEY_ID = "AKIAXKSFLOODTEST234A";
  private static final String XKS_SECRET = "Hq9w8e7r6t5y4u3i2o1pAsDfGhJkLzXcVbNm0123456=";

  private static KmsSecureTestServer server;
  private static XksFrontEnd xks;

  @BeforeAll
  static void start() throws Exception {
    server = KmsSecureTestServer.start();
    TestAccessKeys xksKeys =
        new TestAccessKeys(XksFrontEnd.SIGNING_SERVICE)
            .add(XKS_KEY_ID, XKS_SECRET, server.accessControl().caller("xks:aws-kms"));
    xks =
        XksFrontEnd.start(
            new XksConfig(
                0, "127.0.0.1", "", 1, ClientCertificates.NONE, 16, Duration.ofSeconds(20), ""),
            server.security(),
            server.accessControl(),
            server.hsm(),
            xksKeys,
            Clock.systemUTC(),
            4);
  }

  @AfterAll
  static void stop() throws Exception {
    if (xks != null) {
      xks.close();
    }
    server.close();
  }

  @Test
  void unauthenticatedFlood_allRefused_auditedUpToTheBound_theRestCounted() throws Exception {
    RefusalAuditLimit limit = server.accessControl().refusalAuditLimit();
    // The configured bound (audit.refused.*), not the default.
    int perAddress = server.security().refusalAudit().perAddress();
    assertThat(perAddress).isNotEqualTo(RefusalAuditLimit.DEFAULT_PER_ADDRESS);
    assertThat(limit.perAddress()).isEqualTo(perAddress);
    assertThat(limit.overall()).isEqualTo(server.security().refusalAudit().overall());
    HttpClient https =
        HttpClient.newBuilder()
            .sslContext(server.clientContext(null))
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    int flood = perAddress * 2;
    long started = System.nanoTime();
    for (int i = 0; i < flood; i++) {
      HttpResponse<String> r =
          https.send(
              HttpRequest.newBuilder(server.awsEndpoint())
                  .header("X-Amz-Target", "TrentService.ListKeys")
                  .header("Content-Type", "application/x-amz-json-1.1")
                  .POST(HttpRequest.BodyPublishers.ofString("{}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(400);
      assertThat(JSON.readTree(r.body()).path("__type").asText())
          .isEqualTo("MissingAuthenticationTokenException");
    }
    long seconds = Duration.ofNanos(System.nanoTime() - started).toSeconds();

    long audited = records("MissingAuthenticationTokenException").size();
    // The whole burst is recorded, and what the bound refilled while the flood ran; no more.
    assertThat(audited)
        .isBetween((long) perAddress, perAddress + (seconds + 1) * perAddress / 60 + 1);
    assertThat(limit.notAudited()).isEqualTo(flood - audited);

    // The bound is the address's, whichever front end it calls: wrongly signed XKS requests are
    // refused, and recorded only as the bound refills.
    long before = limit.notAudited();
    XksTestClient wrongSecret =
        new XksTestClient(
            "https://localhost:" + xks.port(),
            XKS_KEY_ID,
            "not-the-secret",
            "us-east-1",
            server.clientContext(null));
    int xksFlood = 20;
    for (int i = 0; i < xksFlood; i++) {
      XksTestClient.Reply refused =
          wrongSecret.post(
              "/kms/xks/v1/health",
              "{\"requestMetadata\":{\"kmsRequestId\":\""
                  + UUID.randomUUID()
                  + "\",\"kmsOperation\":\"KmsHealthCheck\"}}");
      assertThat(refused.status()).isEqualTo(401);
      assertThat(refused.errorName()).isEqualTo("AuthenticationFailedException");
    }
    long sinceFlood = Duration.ofNanos(System.nanoTime() - started).toSeconds();
    long xksAudited = records("AuthenticationFailedException").size();
    assertThat(xksAudited).isLessThanOrEqualTo((sinceFlood + 1) * perAddress / 60 + 1);
    assertThat(limit.notAudited() - before).isEqualTo(xksFlood - xksAudited);

    // The metric the server exposes counts them.
    Metrics metrics = new Metrics();
    metrics.countRefusalsNotAudited(limit);
    assertThat(metrics.scrape())
        .contains("p11kms_audit_refusals_not_audited_total " + (double) limit.notAudited());

    // An authenticated request from the same address is served and recorded as ever.
    try (KmsClient admin = server.awsClientFor(ADMIN, "admin-secret", "admin-secret")) {
      ListKeysResponse keys = admin.listKeys();
      String requestId = keys.responseMetadata().requestId();
      assertThat(
              requests().stream()
                  .filter(r -> r.path("requestId").asText().equals(requestId))
                  .map(r -> r.path("outcome").asText()))
          .containsExactly("SUCCEEDED");
    }
  }

  private static List<JsonNode> records(String error) throws IOException {
    return requests().stream().filter(r -> r.path("error").asText().equals(error)).toList();
  }

  private static List<JsonNode> requests() throws IOException {
    return Files.readAllLines(server.auditFile()).stream()
        .map(
            l -> {
              try {
                return JSON.readTree(l);
              } catch (IOException e) {
                throw new IllegalStateException(e);
              }
            })
        .filter(n -> n.path("type").asText().equals("request"))
        .toList();
  }
}
