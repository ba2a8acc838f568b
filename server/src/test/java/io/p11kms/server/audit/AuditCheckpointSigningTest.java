package io.p11kms.server.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint's MAC (a token call) is made without the lock every record takes: other requests
 * append while it is signed, the checkpoint line then names the head its MAC covers, and the
 * verifier checks the MAC against that head.
 */
class AuditCheckpointSigningTest {
  @TempDir Path dir;

  // A software HMAC stands in for the token key: these tests are about the log, not the token.
  private static final byte[] KEY = new byte[32];

  private static byte[] mac(byte[] data) {
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(new SecretKeySpec(KEY, "HmacSHA256"));
      return m.doFinal(data);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static final AuditVerifier.MacCheck CHECK =
      (data, mac) -> MessageDigest.isEqual(mac(data), mac);

  private static AuditEntry entry(String id) {
    return AuditEntry.builder(id, "CN=alice", "Encrypt")
        .keyArn("arn:k")
        .contextKeys(List.of())
        .outcome("SUCCEEDED", "")
        .build();
  }

  private AuditLog open(int checkpointRecords, AuditLog.Signer signer) {
    return AuditLog.open(
        dir.resolve("audit.log"),
        signer,
        checkpointRecords,
        Duration.ofHours(1),
        Clock.systemUTC());
  }

  private List<String> lines() throws IOException {
    return Files.readAllLines(dir.resolve("audit.log"), StandardCharsets.UTF_8);
  }

  /** The log of {@link #othersAppendWhileACheckpointIsSigned}: r1, r2, r3, r4, the checkpoint. */
  private List<String> signedWhileOthersAppended() throws Exception {
    CountDownLatch signing = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean first = new AtomicBoolean(true);
    AuditLog.Signer slow =
        data -> {
          if (first.getAndSet(false)) {
            signing.countDown();
            try {
              release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          return mac(data);
        };
    try (AuditLog log = open(2, slow)) {
      log.append(entry("r1"));
      CompletableFuture<Void> checkpointing =
          CompletableFuture.runAsync(() -> log.append(entry("r2")));
      assertThat(signing.await(10, TimeUnit.SECONDS)).isTrue();

      // Under the lock these would wait for the token call.
      CompletableFuture.runAsync(
              () -> {
                log.append(entry("r3"));
                log.append(entry("r4"));
              })
          .get(10, TimeUnit.SECONDS);
      assertThat(checkpointing).as("still waiting for its MAC").isNotDone();

      release.countDown();
      checkpointing.get(10, TimeUnit.SECONDS);
      // Counted from r2, the head it covers: r3 and r4 are two records, so one is due now.
      log.append(entry("r5"));
    } finally {
      release.countDown();
    }
    return lines();
  }

  @Test
  void othersAppendWhileACheckpointIsSigned_andItsLineNamesTheHeadItCovers() throws Exception {
    List<String> lines = signedWhileOthersAppended();

    assertThat(lines.get(2)).contains("\"requestId\":\"r3\"");
    assertThat(lines.get(3)).contains("\"requestId\":\"r4\"");
    String checkpoint = lines.get(4);
    assertThat(checkpoint)
        .contains("\"seq\":5,\"type\":\"checkpoint\"")
        .contains("\"prev\":\"" + AuditLines.sha256(lines.get(3)) + "\"")
        .contains("\"covers\":{\"seq\":2,\"hash\":\"" + AuditLines.sha256(lines.get(1)) + "\"}");
    // The next checkpoint, signed with nothing appended meanwhile, follows its head directly.
    assertThat(lines.get(6)).contains("\"type\":\"checkpoint\"").doesNotContain("covers");

    AuditVerifier.Result result = AuditVerifier.verify(lines, CHECK);
    assertThat(result.ok()).as(result.toString()).isTrue();
    assertThat(result.checkpoints()).isEqualTo(2);
  }

  @Test
  void aRecordEditedBeforeTheCoveredHead_isNamed() throws Exception {
    List<String> lines = new ArrayList<>(signedWhileOthersAppended());
    lines.set(1, lines.get(1).replace("CN=alice", "CN=mallory"));

    AuditVerifier.Result result = AuditVerifier.verify(lines, CHECK);
    assertThat(result.ok()).isFalse();
    assertThat(result.problem()).isEqualTo("record 2 (line 2) was edited");
  }

  @Test
  void aCheckpointMovedToAnotherHead_hasABadSignature() throws Exception {
    List<String> lines = new ArrayList<>(signedWhileOthersAppended());
    String moved =
        lines
            .get(4)
            .replaceAll(
                "\"covers\":\\{[^}]*\\}",
                "\"covers\":{\"seq\":3,\"hash\":\"" + AuditLines.sha256(lines.get(2)) + "\"}");

    lines.set(4, moved);
    AuditVerifier.Result result = AuditVerifier.verify(lines, CHECK);
    assertThat(result.ok()).isFalse();
    assertThat(result.problem()).isEqualTo("checkpoint 5 has a bad signature (edited)");
  }

  @Test
  void aCheckpointCoveringAHeadItDoesNotFollow_isNamed() throws Exception {
    List<String> lines = new ArrayList<>(signedWhileOthersAppended());
    // Record 2's hash under another sequence number, and a sequence number after the checkpoint.
    for (String covers :
        List.of(
            "{\"seq\":1,\"hash\":\"" + AuditLines.sha256(lines.get(1)) + "\"}",
            "{\"seq\":6,\"hash\":\"" + AuditLines.sha256(lines.get(1)) + "\"}")) {
      List<String> edited = new ArrayList<>(lines);
      edited.set(4, lines.get(4).replaceAll("\"covers\":\\{[^}]*\\}", "\"covers\":" + covers));
      AuditVerifier.Result result = AuditVerifier.verify(edited, CHECK);
      assertThat(result.ok()).as(covers).isFalse();
      assertThat(result.problem()).startsWith("checkpoint 5 covers a record that is not among");
    }
  }

  @Test
  void aFailedSignature_failsItsRequest_andTheNextRecordSignsAgain() throws Exception {
    AtomicBoolean failNext = new AtomicBoolean(true);
    AuditLog.Signer failingOnce =
        data -> {
          if (failNext.getAndSet(false)) {
            throw new IllegalStateException("token unavailable");
          }
          return mac(data);
        };
    try (AuditLog log = open(2, failingOnce)) {
      log.append(entry("r1"));
      assertThatThrownBy(() -> log.append(entry("r2")))
          .isInstanceOf(AuditException.class)
          .hasMessage("cannot sign an audit checkpoint");
      log.append(entry("r3"));
    }
    List<String> lines = lines();
    assertThat(lines).hasSize(4);
    assertThat(lines.get(3)).contains("\"seq\":4,\"type\":\"checkpoint\"");
    AuditVerifier.Result result = AuditVerifier.verify(lines, CHECK);
    assertThat(result.ok()).as(result.toString()).isTrue();
    assertThat(result.checkpoints()).isEqualTo(1);
  }

  @Test
  void manyWritersAndSlowSignatures_keepAChainThatVerifies() throws Exception {
    AuditLog.Signer slow =
        data -> {
          try {
            Thread.sleep(2);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return mac(data);
        };
    ExecutorService threads = Executors.newFixedThreadPool(8);
    try (AuditLog log = open(10, slow)) {
      List<Future<?>> writers = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int writer = t;
        writers.add(
            threads.submit(
                () -> {
                  for (int i = 0; i < 250; i++) {
                    log.append(entry("w" + writer + "-" + i));
                    if (i % 100 == 0) {
                      log.checkpoint();
                    }
                  }
                }));
      }
      for (Future<?> w : writers) {
        w.get(60, TimeUnit.SECONDS);
      }
    } finally {
      threads.shutdownNow();
    }
    List<String> lines = lines();
    assertThat(lines.stream().filter(l -> l.contains("\"type\":\"request\""))).hasSize(2_000);
    assertThat(lines.stream().filter(l -> l.contains("\"covers\""))).isNotEmpty();
    AuditVerifier.Result result = AuditVerifier.verify(lines, CHECK);
    assertThat(result.ok()).as(result.toString()).isTrue();
    assertThat(result.checkpoints()).isGreaterThan(20);
  }
}
