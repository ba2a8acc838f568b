package io.p11kms.server.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The log's head anchored out of the writer's reach (here in memory; in the token in {@code
 * VerifyAuditIT} and {@code AuditLogIT}): a log cut back at a checkpoint, or deleted, is reported,
 * before and after a restart; and what a rolled-back anchor hides.
 */
class AuditAnchorTest {
  private static final byte[] KEY = new byte[32];
  private static final AuditVerifier.MacCheck CHECK =
      (data, mac) -> java.security.MessageDigest.isEqual(mac(data), mac);

  @TempDir Path dir;

  private final MemoryAnchor anchor = new MemoryAnchor();

  private static byte[] mac(byte[] data) {
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(new SecretKeySpec(KEY, "HmacSHA256"));
      return m.doFinal(data);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** What the token would hold. */
  static final class MemoryAnchor implements AuditAnchor {
    volatile Optional<AuditHead> head = Optional.empty();
    volatile int writes;

    @Override
    public Optional<AuditHead> read() {
      return head;
    }

    @Override
    public void write(AuditHead h) {
      head = Optional.of(h);
      writes++;
    }
  }

  /** Opens the log, appends {@code records} requests (a checkpoint every 4 records), closes it. */
  private Path run(Path file, int records) {
    try (AuditLog log =
        AuditLog.open(
            file, AuditAnchorTest::mac, anchor, 4, Duration.ofHours(1), Clock.systemUTC())) {
      for (int i = 0; i < records; i++) {
        log.append(
            AuditEntry.builder("r" + i, "CN=alice", "Encrypt")
                .keyArn("arn:k")
                .contextKeys(List.of("dept"))
                .outcome("SUCCEEDED", "")
                .build());
      }
    }
    return file;
  }

  private static List<String> lines(Path... files) throws IOException {
    List<String> all = new ArrayList<>();
    for (Path f : files) {
      all.addAll(Files.readAllLines(f, StandardCharsets.UTF_8));
    }
    return all;
  }

  private AuditVerifier.Result verify(Path... files) throws IOException {
    return AuditVerifier.verify(lines(files), CHECK, anchor.read());
  }

  /** Cuts the file back to its {@code n}th checkpoint (1-based); the lines kept. */
  private static List<String> cutAtCheckpoint(Path file, int n) throws IOException {
    List<String> lines = lines(file);
    int seen = 0;
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).contains("\"type\":\"checkpoint\"") && ++seen == n) {
        List<String> kept = new ArrayList<>(lines.subList(0, i + 1));
        Files.write(file, kept, StandardCharsets.UTF_8);
        return kept;
      }
    }
    throw new AssertionError("no checkpoint " + n);
  }

  /** Waits for the anchor's writer thread to anchor checkpoint {@code seq}. */
  private void awaitAnchored(long seq) {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (anchor.head.map(AuditHead::seq).orElse(0L) < seq && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    assertThat(anchor.head.map(AuditHead::seq)).hasValue(seq);
  }

  private static long seqOf(String line) throws IOException {
    return AuditLines.JSON.readTree(line).path("seq").asLong();
  }

  @Test
  void everyCheckpoint_isAnchored_andTheIntactLogReachesIt() throws IOException {
    Path file = run(dir.resolve("audit.log"), 10);
    List<String> lines = lines(file);
    // start, 10 requests, 3 checkpoints (after 4 and 8 records, and at close).
    assertThat(lines).hasSize(14);
    assertThat(lines.get(0)).contains("\"type\":\"start\"", "\"anchor\":null");
    assertThat(anchor.head).hasValue(new AuditHead(14, AuditLines.sha256(lines.get(13))));
    AuditVerifier.Result r = verify(file);
    assertThat(r.ok()).as(r.toString()).isTrue();
    assertThat(r.notes()).isEmpty();
  }

  @Test
  void logCutBackAtACheckpoint_isShorterThanItsAnchor() throws IOException {
    Path file = run(dir.resolve("audit.log"), 10);
    List<String> kept = cutAtCheckpoint(file, 1);

    // The chain and its MACs alone still look intact: that was the hole.
    assertThat(AuditVerifier.verify(kept, CHECK).ok()).isTrue();
    AuditVerifier.Result r = verify(file);
    assertThat(r.ok()).isFalse();
    assertThat(r.problem())
        .isEqualTo(
            "the log is shorter than its anchor: the token's anchor is checkpoint 14, the log"
                + " ends at record "
                + seqOf(kept.get(kept.size() - 1))
                + " (cut back, or a later file is missing)");
  }

  @Test
  void logCutBackAtACheckpoint_thenARestart_namesTheGap() throws IOException {
    Path file = run(dir.resolve("audit.log"), 10);
    List<String> kept = cutAtCheckpoint(file, 2);
    long cutAt = seqOf(kept.get(kept.size() - 1));
    run(file, 2);

    List<String> lines = lines(file);
    String start = lines.get(kept.size());
    assertThat(start).contains("\"type\":\"start\"", "\"anchor\":{\"seq\":14,");
    assertThat(seqOf(start)).isEqualTo(15);
    AuditVerifier.Result r = verify(file);
    assertThat(r.ok()).isFalse();
    assertThat(r.line()).isEqualTo(kept.size() + 1);
    assertThat(r.problem())
        .isEqualTo(
            "records "
                + (cutAt + 1)
                + "-14 are missing: when the server restarted here the log ended at record "
                + cutAt
                + " but the token's anchor was checkpoint 14 (the log was cut back)");
  }

  @Test
  void logDeleted_thenARestart_theNewFileChainsToTheAnchor() throws IOException {
    Path file = run(dir.resolve("audit.log"), 10);
    Path old = Files.move(file, dir.resolve("audit.log.old"));
    run(file, 3);

    String first = lines(file).get(0);
    assertThat(first).contains("\"type\":\"start\"", "\"anchor\":{\"seq\":14,");
    assertThat(seqOf(first)).isEqualTo(15);
    // Alone, the new file says that the log before it is missing.
    AuditVerifier.Result alone = verify(file);
    assertThat(alone.ok()).isFalse();
    assertThat(alone.line()).isEqualTo(1);
    assertThat(alone.problem())
        .isEqualTo(
            "the log begins at record 15, after checkpoint 14 of an earlier log: records 1-14 are"
                + " missing (deleted; to verify across files, give the earlier ones first)");
    // With the earlier file first, the two are one chain.
    AuditVerifier.Result both = verify(old, file);
    assertThat(both.ok()).as(both.toString()).isTrue();
  }

  @Test
  void aRestartOnTheIntactLog_continuesItsChain() throws IOException {
    Path file = run(dir.resolve("audit.log"), 10);
    run(file, 5);
    AuditVerifier.Result r = verify(file);
    assertThat(r.ok()).as(r.toString()).isTrue();
    assertThat(lines(file).stream().filter(l -> l.contains("\"type\":\"start\""))).hasSize(2);
  }

  @Test
  void crashAfterACheckpoint_logMovedAside_theUnsignedTailIsNoted() throws IOException {
    Path file = dir.resolve("audit.log");
    // A crash: records after the last checkpoint, and no checkpoint at close.
    AuditLog crashed =
        AuditLog.open(
            file, AuditAnchorTest::mac, anchor, 4, Duration.ofHours(1), Clock.systemUTC());
    for (int i = 0; i < 6; i++) {
      crashed.append(
          AuditEntry.builder("r" + i, "p", "Encrypt")
              .contextKeys(List.of())
              .outcome("SUCCEEDED", "")
              .build());
    }
    // The start record and three requests, then checkpoint 5 (anchored off the request path),
    // then three requests unsigned.
    long anchored = 5;
    awaitAnchored(anchored);
    Path old = Files.move(file, dir.resolve("audit.log.old"));
    run(file, 1);

    AuditVerifier.Result r = verify(old, file);
    assertThat(r.ok()).as(r.toString()).isTrue();
    assertThat(r.notes())
        .singleElement()
        .asString()
        .startsWith(
            "records " + (anchored + 1) + "-" + seqOf(lines(old).get(lines(old).size() - 1)))
        .contains("unsigned and were not carried on");
  }

  @Test
  void anchorRemoved_beforeARestart_isNamed() throws IOException {
    Path file = run(dir.resolve("audit.log"), 10);
    anchor.head = Optional.empty();
    run(file, 1);
    AuditVerifier.Result r = verify(file);
    assertThat(r.ok()).isFalse();
    assertThat(r.problem()).contains("without an anchor in the token", "the anchor was removed");
  }

  @Test
  void anchorNamingACheckpointTheLogDoesNotHold_isNamed() throws IOException {
    Path file = run(dir.resolve("audit.log"), 10);
    anchor.head = Optional.of(new AuditHead(9, "ab".repeat(32)));
    AuditVerifier.Result r = verify(file);
    assertThat(r.ok()).isFalse();
    assertThat(r.problem()).startsWith("the token's anchor is checkpoint 9, which this log does");
  }

  /**
   * The limit, stated in docs/security.md: whoever can set the anchor (a user-PIN holder, or
   * whoever can restore the token's own files) can move it back to an earlier checkpoint and cut
   * the log there, and the two agree again.
   */
  @Test
  void anchorRolledBack_andTheLogCutToIt_isNotDetected() throws IOException {
    Path file = run(dir.resolve("audit.log"), 10);
    List<String> kept = cutAtCheckpoint(file, 2);
    String last = kept.get(kept.size() - 1);
    anchor.head = Optional.of(new AuditHead(seqOf(last), AuditLines.sha256(last)));
    AuditVerifier.Result r = verify(file);
    assertThat(r.ok()).as(r.toString()).isTrue();
  }

  @Test
  void noAnchorInTheToken_forALogWrittenWithoutOne_isANote() throws IOException {
    Path file = dir.resolve("audit.log");
    try (AuditLog log =
        AuditLog.open(file, AuditAnchorTest::mac, 4, Duration.ofHours(1), Clock.systemUTC())) {
      log.append(
          AuditEntry.builder("r", "p", "Encrypt")
              .contextKeys(List.of())
              .outcome("SUCCEEDED", "")
              .build());
    }
    AuditVerifier.Result r = verify(file);
    assertThat(r.ok()).as(r.toString()).isTrue();
    assertThat(r.notes())
        .containsExactly(
            "the token holds no anchor: a log cut back at a checkpoint would not be detected");
  }

  @Test
  void aFailedAnchorWrite_failsNoRequest_andTheNextRecordCheckpointsAndAnchorsAgain()
      throws IOException {
    Path file = dir.resolve("audit.log");
    java.util.concurrent.atomic.AtomicBoolean failNext =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    AuditAnchor flaky =
        new AuditAnchor() {
          @Override
          public Optional<AuditHead> read() {
            return anchor.read();
          }

          @Override
          public void write(AuditHead head) {
            if (failNext.getAndSet(false)) {
              throw new IllegalStateException("token unreachable");
            }
            anchor.write(head);
          }
        };
    try (AuditLog log =
        AuditLog.open(
            file, AuditAnchorTest::mac, flaky, 4, Duration.ofHours(1), Clock.systemUTC())) {
      for (int i = 0; i < 3; i++) {
        log.append(
            AuditEntry.builder("r" + i, "p", "Encrypt")
                .contextKeys(List.of())
                .outcome("SUCCEEDED", "")
                .build());
      }
      // start + 3 records: the fourth record made checkpoint 5, whose anchoring failed.
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (failNext.get() && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      assertThat(failNext.get()).isFalse();
      assertThat(anchor.head).isEmpty();
      log.append(
          AuditEntry.builder("r", "p", "Encrypt")
              .contextKeys(List.of())
              .outcome("SUCCEEDED", "")
              .build());
    }
    List<String> lines = lines(file);
    // ... so the next record was followed by checkpoint 7, and close() added none.
    assertThat(lines.get(6)).contains("\"seq\":7", "\"type\":\"checkpoint\"");
    assertThat(lines).hasSize(7);
    assertThat(anchor.head).hasValue(new AuditHead(7, AuditLines.sha256(lines.get(6))));
  }

  @Test
  void eachCheckpoint_writesTheAnchorOnce() throws IOException {
    Path file = run(dir.resolve("audit.log"), 10);
    int writes = anchor.writes;
    try (AuditLog log =
        AuditLog.open(
            file, AuditAnchorTest::mac, anchor, 4, Duration.ofHours(1), Clock.systemUTC())) {
      log.checkpoint();
      // 14 lines before, the start record, this checkpoint.
      awaitAnchored(16);
      log.checkpoint();
      awaitAnchored(17);
    }
    assertThat(anchor.writes).isEqualTo(writes + 2);
  }
}
