package io.p11kms.server.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A request's line is written as bytes straight from the record (its fields through the thread's
 * buffers, its place in the chain through the log's): every line must be, byte for byte, the UTF-8
 * of the JSON a map of its fields gives (a lone surrogate as {@code ?}, as {@code String.getBytes}
 * writes it), with its time as {@link Instant#toString()} and {@code prev} the SHA-256 of the line
 * before.
 */
class AuditLineBytesTest {
  @TempDir Path dir;

  /** A clock the test moves: each record's time is the one set before its append. */
  private static final class SetClock extends Clock {
    Instant now = Instant.EPOCH;

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @Test
  void linesAreTheUtf8OfTheMapJson_forAwkwardTextAndTimes() throws Exception {
    List<AuditEntry> entries = new ArrayList<>();
    entries.add(entry("r1", "CN=al\"ice\\", "Encrypt", List.of("a", "é\n\t\u0001\u007f")));
    entries.add(entry("r2", "日本語 \uD83D\uDE00", "Decrypt", List.of()));
    // Lone surrogates: a high one alone, a low one alone, a high one before a plain character.
    entries.add(entry("r3", "x\uD800", "Encrypt", List.of("\uDC00", "\uD83Da")));
    entries.add(entry("r4", "p", "GenerateDataKey", null));
    entries.add(
        AuditEntry.builder("r5", "svc", "XksEncrypt")
            .keyArn("arn:k")
            .contextKeys(List.of())
            .outcome("FAILED", "NotFoundException")
            .account("111122223333")
            .keyAccount("444455556666")
            .onBehalfOf("customer\u2028", "777788889999")
            .requestMetadata(Map.of("kmsRequestId", "req-\"1", "awsPrincipalArn", "arn:é"))
            .build());
    // Larger than the buffers a thread keeps: they grow for it and are let go after it.
    entries.add(entry("r6", "é".repeat(3 * RequestFields.KEPT), "Encrypt", List.of("k")));
    entries.add(entry("r7", "after the large one", "Encrypt", List.of("k")));

    List<Instant> times = new ArrayList<>();
    times.add(Instant.parse("2026-11-28T19:00:00Z"));
    times.add(Instant.parse("2026-11-28T19:00:00.100Z"));
    times.add(Instant.parse("2026-11-28T19:00:07.120300Z"));
    times.add(Instant.parse("2024-02-29T00:00:00.000000001Z"));
    times.add(Instant.EPOCH);
    times.add(Instant.parse("9999-12-31T23:59:59.999999999Z"));
    times.add(Instant.parse("+10000-01-01T00:00:00Z"));
    times.add(Instant.parse("1969-12-31T23:59:59.5Z"));
    Random random = new Random(7);
    int[] nanoSteps = {1_000_000_000, 1_000_000, 1_000, 1};
    for (int i = 0; i < 400; i++) {
      // Whole seconds, milliseconds, microseconds and nanoseconds alike.
      int step = nanoSteps[i % nanoSteps.length];
      times.add(
          Instant.ofEpochSecond(
              random.nextLong(253_402_300_800L), step * random.nextInt(1_000_000_000 / step)));
    }

    Path file = dir.resolve("audit.log");
    SetClock clock = new SetClock();
    List<AuditEntry> appended = new ArrayList<>();
    try (AuditLog log =
        AuditLog.open(file, data -> new byte[32], 1_000_000, Duration.ofDays(365), clock)) {
      for (int i = 0; i < times.size(); i++) {
        AuditEntry e = entries.get(i % entries.size());
        clock.now = times.get(i);
        log.append(e);
        appended.add(e);
      }
      clock.now = Instant.EPOCH;
    }

    String prev = AuditLines.GENESIS;
    int requests = 0;
    long seq = 0;
    for (byte[] line : lines(Files.readAllBytes(file))) {
      seq++;
      if (new String(line, StandardCharsets.UTF_8).contains("\"type\":\"request\"")) {
        byte[] want =
            AuditLines.JSON
                .writeValueAsString(map(seq, times.get(requests), appended.get(requests), prev))
                .getBytes(StandardCharsets.UTF_8);
        requests++;
        assertThat(line).as("request line %d", requests).isEqualTo(want);
      }
      prev = AuditLines.sha256(AuditLines.newSha256(), line);
    }
    assertThat(requests).isEqualTo(times.size());
  }

  private static AuditEntry entry(
      String requestId, String principal, String operation, List<String> contextKeys) {
    return AuditEntry.builder(requestId, principal, operation)
        .keyArn("arn:aws:kms:eu-west-1:111122223333:key/" + requestId)
        .contextKeys(contextKeys)
        .outcome("SUCCEEDED", "")
        .build();
  }

  /** The record as a map, in the line's order. */
  private static Map<String, Object> map(long seq, Instant time, AuditEntry e, String prev) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("seq", seq);
    r.put("type", "request");
    r.put("time", time.toString());
    r.put("requestId", e.requestId());
    r.put("principal", e.principal());
    if (e.account() != null) {
      r.put("account", e.account());
    }
    if (e.onBehalfOf() != null) {
      r.put("onBehalfOf", e.onBehalfOf());
      r.put("onBehalfOfAccount", e.onBehalfOfAccount());
    }
    r.put("operation", e.operation());
    r.put("keyArn", e.keyArn());
    if (e.keyAccount() != null) {
      r.put("keyAccount", e.keyAccount());
    }
    r.put("contextKeys", e.contextKeys());
    r.put("outcome", e.outcome());
    r.put("error", e.error());
    if (!e.requestMetadata().isEmpty()) {
      r.put("requestMetadata", new TreeMap<>(e.requestMetadata()));
    }
    r.put("prev", prev);
    return r;
  }

  /** The lines of the file, each without its break. */
  private static List<byte[]> lines(byte[] file) {
    List<byte[]> lines = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < file.length; i++) {
      if (file[i] == '\n') {
        lines.add(Arrays.copyOfRange(file, start, i));
        start = i + 1;
      }
    }
    return lines;
  }
}
