package io.p11kms.server.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Group commit: requests that wait for the audit log's lock have their records written together, in
 * one write of the file, by the thread that holds the lock. Each request still returns only once
 * its own record is written, the lines stay in chain order, and a failed write fails exactly the
 * requests whose records it held.
 */
class AuditGroupCommitTest {
  private static final int THREADS = 8;
  private static final int RECORDS_PER_THREAD = 150;

  @TempDir Path dir;

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

  /**
   * The file's sink with its writes counted, each made slow enough that other requests queue
   * meanwhile, and the request ids of each batch it wrote noted once the file's write returned.
   */
  private final class CountingSink implements AuditSink {
    final AuditSink file;
    final AtomicInteger writes = new AtomicInteger();
    final Set<String> written = ConcurrentHashMap.newKeySet();
    final AtomicBoolean failNextBatch = new AtomicBoolean();

    CountingSink(AuditSink file) {
      this.file = file;
    }

    @Override
    public void write(byte[] line) throws IOException {
      writes.incrementAndGet();
      sleep();
      file.write(line);
      noteWritten(line);
    }

    @Override
    public void write(ByteBuffer lines) throws IOException {
      writes.incrementAndGet();
      sleep();
      List<byte[]> each = new ArrayList<>();
      ByteBuffer read = lines.duplicate();
      for (int start = read.position(); read.hasRemaining(); ) {
        if (read.get() == '\n') {
          byte[] line = new byte[read.position() - 1 - start];
          read.duplicate().position(start).get(line);
          each.add(line);
          start = read.position();
        }
      }
      if (each.size() > 1 && failNextBatch.getAndSet(false)) {
        throw new IOException("disk full");
      }
      file.write(lines);
      for (byte[] line : each) {
        noteWritten(line);
      }
    }

    private void noteWritten(byte[] line) throws IOException {
      written.add(AuditLines.JSON.readTree(line).path("requestId").asText());
    }

    @Override
    public void check() throws IOException {
      file.check();
    }

    @Override
    public void flush() throws IOException {
      file.flush();
    }

    @Override
    public void close() throws IOException {
      file.close();
    }

    private void sleep() {
      try {
        Thread.sleep(3);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private CountingSink sink;

  private AuditLog open() {
    UnaryOperator<AuditSink> wrap = file -> sink = new CountingSink(file);
    return AuditLog.open(
        dir.resolve("audit.log"),
        AuditGroupCommitTest::sha,
        null,
        100,
        Duration.ofHours(1),
        Clock.systemUTC(),
        wrap);
  }

  private List<String> lines() throws IOException {
    return Files.readAllLines(dir.resolve("audit.log"), StandardCharsets.UTF_8);
  }

  /** Runs {@link #RECORDS_PER_THREAD} appends on each of {@link #THREADS} threads at once. */
  private List<String> appendConcurrently(AuditLog log, Set<String> failed) throws Exception {
    List<String> notWrittenWhenAnswered = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    CountDownLatch go = new CountDownLatch(1);
    try {
      List<Future<List<String>>> threads = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        int thread = t;
        threads.add(
            pool.submit(
                () -> {
                  go.await();
                  List<String> early = new ArrayList<>();
                  for (int i = 0; i < RECORDS_PER_THREAD; i++) {
                    String id = "t" + thread + "-" + i;
                    try {
                      log.append(entry(id));
                    } catch (AuditException e) {
                      failed.add(id);
                      continue;
                    }
                    // Answered: its record must have been through the file's write already.
                    if (!sink.written.contains(id)) {
                      early.add(id);
                    }
                  }
                  return early;
                }));
      }
      go.countDown();
      for (Future<List<String>> f : threads) {
        notWrittenWhenAnswered.addAll(f.get(60, TimeUnit.SECONDS));
      }
    } finally {
      pool.shutdownNow();
    }
    return notWrittenWhenAnswered;
  }

  @Test
  void concurrentRecords_areWrittenTogether_eachBeforeItsRequestReturns_inChainOrder()
      throws Exception {
    Set<String> failed = ConcurrentHashMap.newKeySet();
    List<String> early;
    try (AuditLog log = open()) {
      early = appendConcurrently(log, failed);
    }
    int records = THREADS * RECORDS_PER_THREAD;
    assertThat(failed).isEmpty();
    assertThat(early).as("requests answered before their record was written").isEmpty();
    assertThat(sink.writes.get())
        .as("writes of the file: fewer than the records, as they queued for the lock")
        .isLessThan(records * 3 / 4);

    List<String> lines = lines();
    AuditVerifier.Result result = AuditVerifier.verify(lines, CHECK);
    assertThat(result.ok()).as(result.toString()).isTrue();
    List<String> requestIds = new ArrayList<>();
    long seq = 0;
    for (String line : lines) {
      var json = AuditLines.JSON.readTree(line);
      assertThat(json.path("seq").asLong()).isEqualTo(++seq);
      if (json.path("type").asText().equals("request")) {
        requestIds.add(json.path("requestId").asText());
      }
    }
    assertThat(requestIds).hasSize(records).doesNotHaveDuplicates();
    // Each thread's own records in the order it made them.
    for (int t = 0; t < THREADS; t++) {
      String prefix = "t" + t + "-";
      List<String> own = requestIds.stream().filter(id -> id.startsWith(prefix)).toList();
      for (int i = 0; i < RECORDS_PER_THREAD; i++) {
        assertThat(own.get(i)).isEqualTo(prefix + i);
      }
    }
  }

  @Test
  void aFailedWrite_failsTheRequestsItHeld_andTheChainGoesOnWithoutThem() throws Exception {
    Set<String> failed = ConcurrentHashMap.newKeySet();
    List<String> early;
    try (AuditLog log = open()) {
      log.append(entry("first"));
      sink.failNextBatch.set(true);
      early = appendConcurrently(log, failed);
    }
    assertThat(early).isEmpty();
    assertThat(failed).as("the requests of the batch that failed").hasSizeGreaterThan(1);

    List<String> lines = lines();
    AuditVerifier.Result result = AuditVerifier.verify(lines, CHECK);
    assertThat(result.ok()).as(result.toString()).isTrue();
    List<String> requestIds = new ArrayList<>();
    for (String line : lines) {
      var json = AuditLines.JSON.readTree(line);
      if (json.path("type").asText().equals("request")) {
        requestIds.add(json.path("requestId").asText());
      }
    }
    assertThat(requestIds)
        .hasSize(1 + THREADS * RECORDS_PER_THREAD - failed.size())
        .doesNotContainAnyElementsOf(failed);
  }
}
