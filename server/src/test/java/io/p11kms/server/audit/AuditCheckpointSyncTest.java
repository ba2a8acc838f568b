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
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint's sync to disk holds only the request that wrote the checkpoint: the others append
 * meanwhile, and the chain stays whole. A failed sync fails its request, and the next record writes
 * a checkpoint again.
 */
class AuditCheckpointSyncTest {
  @TempDir Path dir;

  // A SHA-256 stands in for the token's MAC: these tests are about the file, not the signature.
  private static byte[] sha(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static final AuditVerifier.MacCheck CHECK =
      (data, mac) -> MessageDigest.isEqual(sha(data), mac);

  private static AuditEntry entry(String id) {
    return AuditEntry.builder(id, "CN=alice", "Encrypt")
        .keyArn("arn:k")
        .contextKeys(List.of())
        .outcome("SUCCEEDED", "")
        .build();
  }

  /** The file sink, with {@code flush} run through {@code onFlush} first. */
  private AuditLog open(int checkpointRecords, Runnable onFlush) {
    UnaryOperator<AuditSink> wrap =
        sink ->
            new AuditSink() {
              @Override
              public void write(byte[] line) throws IOException {
                sink.write(line);
              }

              @Override
              public void flush() throws IOException {
                onFlush.run();
                sink.flush();
              }

              @Override
              public void close() throws IOException {
                sink.close();
              }
            };
    return AuditLog.open(
        dir.resolve("audit.log"),
        AuditCheckpointSyncTest::sha,
        null,
        checkpointRecords,
        Duration.ofHours(1),
        Clock.systemUTC(),
        wrap);
  }

  private List<String> lines() throws IOException {
    return Files.readAllLines(dir.resolve("audit.log"), StandardCharsets.UTF_8);
  }

  @Test
  void aCheckpointSync_holdsOnlyItsOwnRequest_othersAppendMeanwhile() throws Exception {
    CountDownLatch inSync = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean first = new AtomicBoolean(true);
    try (AuditLog log =
        open(
            2,
            () -> {
              if (first.getAndSet(false)) {
                inSync.countDown();
                try {
                  release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
            })) {
      log.append(entry("r1"));
      CompletableFuture<Void> checkpointing =
          CompletableFuture.runAsync(() -> log.append(entry("r2")));
      assertThat(inSync.await(10, TimeUnit.SECONDS)).isTrue();

      CompletableFuture<Void> other = CompletableFuture.runAsync(() -> log.append(entry("r3")));
      other.get(10, TimeUnit.SECONDS);
      assertThat(checkpointing).as("still waiting for its sync").isNotDone();

      release.countDown();
      checkpointing.get(10, TimeUnit.SECONDS);
    } finally {
      release.countDown();
    }
    List<String> lines = lines();
    AuditVerifier.Result result = AuditVerifier.verify(lines, CHECK);
    assertThat(result.ok()).as(result.toString()).isTrue();
    assertThat(lines.get(2)).contains("\"type\":\"checkpoint\"").contains("\"seq\":3");
    assertThat(lines.get(3)).contains("\"requestId\":\"r3\"");
  }

  @Test
  void aFailedSync_failsItsRequest_andTheNextRecordWritesACheckpointAgain() throws Exception {
    AtomicBoolean failNext = new AtomicBoolean(true);
    try (AuditLog log =
        open(
            3,
            () -> {
              if (failNext.getAndSet(false)) {
                throw new IllegalStateException("sync failed");
              }
            })) {
      log.append(entry("r1"));
      log.append(entry("r2"));
      assertThatThrownBy(() -> log.append(entry("r3"))).isInstanceOf(AuditException.class);
      log.append(entry("r4"));
    }
    List<String> lines = lines();
    assertThat(lines).hasSize(6);
    assertThat(lines.get(3)).contains("\"type\":\"checkpoint\"");
    assertThat(lines.get(5)).contains("\"type\":\"checkpoint\"");
    AuditVerifier.Result result = AuditVerifier.verify(lines, CHECK);
    assertThat(result.ok()).as(result.toString()).isTrue();
    assertThat(result.checkpoints()).isEqualTo(2);
  }
}
