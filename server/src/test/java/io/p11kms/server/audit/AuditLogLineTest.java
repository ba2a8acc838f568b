package io.p11kms.server.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A request's line is the JSON a map of its fields gives, chained by the SHA-256 of the line. */
class AuditLogLineTest {
  private static final Instant NOW = Instant.parse("2026-11-28T19:00:00.123456Z");

  @TempDir Path dir;

  @Test
  void requestLines_areTheMapJson_chainedByTheirHash() throws Exception {
    Path file = dir.resolve("audit.log");
    byte[] noMac = new byte[32];
    try (AuditLog log =
        AuditLog.open(
            file, data -> noMac, 100, Duration.ofHours(1), Clock.fixed(NOW, ZoneOffset.UTC))) {
      log.append(
          AuditEntry.builder("r1", "CN=al\"ice", "Encrypt")
              .keyArn("arn:k")
              .contextKeys(List.of("a", "é\n"))
              .outcome("SUCCEEDED", "")
              .build());
      log.append(
          AuditEntry.builder("r2", "p", "Decrypt")
              .contextKeys(List.of())
              .outcome("FAILED", "NotFoundException")
              .build());
    }
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);

    assertThat(lines.get(0))
        .isEqualTo(
            AuditLines.JSON.writeValueAsString(
                record(
                    1,
                    "r1",
                    "CN=al\"ice",
                    "Encrypt",
                    "arn:k",
                    List.of("a", "é\n"),
                    "SUCCEEDED",
                    "",
                    AuditLines.GENESIS)));
    assertThat(lines.get(1))
        .isEqualTo(
            AuditLines.JSON.writeValueAsString(
                record(
                    2,
                    "r2",
                    "p",
                    "Decrypt",
                    "",
                    List.of(),
                    "FAILED",
                    "NotFoundException",
                    AuditLines.sha256(lines.get(0)))));
    assertThat(AuditLines.JSON.readTree(lines.get(2)).path("prev").asText())
        .isEqualTo(AuditLines.sha256(lines.get(1)));
    assertThat(AuditLines.JSON.readTree(lines.get(2)).path("type").asText())
        .isEqualTo("checkpoint");
  }

  @Test
  void xksRequestMetadata_isRecordedSortedBeforePrev_andChecksAsAnyLine() throws Exception {
    Path file = dir.resolve("audit.log");
    byte[] noMac = new byte[32];
    try (AuditLog log =
        AuditLog.open(
            file, data -> noMac, 100, Duration.ofHours(1), Clock.fixed(NOW, ZoneOffset.UTC))) {
      log.append(
          AuditEntry.builder("r1", "xks", "XksEncrypt")
              .keyArn("arn:k")
              .contextKeys(List.of())
              .outcome("SUCCEEDED", "")
              .requestMetadata(
                  Map.of("kmsRequestId", "req-1", "awsPrincipalArn", "arn:aws:iam::1:user/a"))
              .build());
    }
    String line = Files.readAllLines(file, StandardCharsets.UTF_8).get(0);

    Map<String, Object> expected =
        record(
            1, "r1", "xks", "XksEncrypt", "arn:k", List.of(), "SUCCEEDED", "", AuditLines.GENESIS);
    expected.remove("prev");
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("awsPrincipalArn", "arn:aws:iam::1:user/a");
    metadata.put("kmsRequestId", "req-1");
    expected.put("requestMetadata", metadata);
    expected.put("prev", AuditLines.GENESIS);
    assertThat(line).isEqualTo(AuditLines.JSON.writeValueAsString(expected));
  }

  /**
   * A record's fields are written before the log's lock is taken, its place in the chain under it:
   * with many threads appending, every line still has every field in order, its own sequence
   * number, and the hash of the line before it.
   */
  @Test
  void linesOfManyThreads_keepEveryField_andChainInOrder() throws Exception {
    Path file = dir.resolve("audit.log");
    byte[] noMac = new byte[32];
    int threads = 8;
    int each = 200;
    try (AuditLog log =
        AuditLog.open(
            file, data -> noMac, 100_000, Duration.ofHours(1), Clock.fixed(NOW, ZoneOffset.UTC))) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        done.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < each; i++) {
                    log.append(
                        AuditEntry.builder(
                                "r-" + thread + "-" + i, "spiffe://svc/\"" + thread, "Encrypt")
                            .keyArn("arn:k")
                            .outcome("SUCCEEDED", "")
                            .account("111122223333")
                            .keyAccount("444455556666")
                            .onBehalfOf("customer-" + i, "777788889999")
                            .build());
                  }
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
      pool.shutdown();
    }
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    String prev = AuditLines.GENESIS;
    for (int n = 0; n < threads * each; n++) {
      String line = lines.get(n);
      var tree = AuditLines.JSON.readTree(line);
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("seq", n + 1);
      r.put("type", "request");
      r.put("time", NOW.toString());
      r.put("requestId", tree.path("requestId").asText());
      r.put("principal", tree.path("principal").asText());
      r.put("account", "111122223333");
      r.put("onBehalfOf", tree.path("onBehalfOf").asText());
      r.put("onBehalfOfAccount", "777788889999");
      r.put("operation", "Encrypt");
      r.put("keyArn", "arn:k");
      r.put("keyAccount", "444455556666");
      r.put("contextKeys", null);
      r.put("outcome", "SUCCEEDED");
      r.put("error", "");
      r.put("prev", prev);
      assertThat(line).isEqualTo(AuditLines.JSON.writeValueAsString(r));
      assertThat(tree.path("principal").asText()).startsWith("spiffe://svc/\"");
      prev = AuditLines.sha256(line);
    }
    assertThat(lines.stream().filter(l -> l.contains("\"type\":\"request\"")))
        .hasSize(threads * each);
  }

  private static Map<String, Object> record(
      long seq,
      String requestId,
      String principal,
      String operation,
      String keyArn,
      List<String> contextKeys,
      String outcome,
      String error,
      String prev) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("seq", seq);
    r.put("type", "request");
    r.put("time", NOW.toString());
    r.put("requestId", requestId);
    r.put("principal", principal);
    r.put("operation", operation);
    r.put("keyArn", keyArn);
    r.put("contextKeys", contextKeys);
    r.put("outcome", outcome);
    r.put("error", error);
    r.put("prev", prev);
    return r;
  }
}
