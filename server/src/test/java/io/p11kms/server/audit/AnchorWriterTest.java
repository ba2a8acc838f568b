package io.p11kms.server.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Anchor writes start at least the spacing apart however fast checkpoints come, each writes the
 * latest checkpoint handed over, never an earlier one after a later, and close writes the latest at
 * once.
 */
class AnchorWriterTest {
  private static final Duration SPACING = Duration.ofMillis(300);

  /** What the token would hold, and when each write started. */
  private static final class TimedAnchor implements AuditAnchor {
    final List<Long> seqs = new ArrayList<>();
    final List<Long> startedAt = new ArrayList<>();
    volatile boolean fail;

    @Override
    public Optional<AuditHead> read() {
      return Optional.empty();
    }

    @Override
    public synchronized void write(AuditHead head) {
      startedAt.add(System.nanoTime());
      if (fail) {
        fail = false;
        throw new IllegalStateException("token unreachable");
      }
      seqs.add(head.seq());
    }

    synchronized List<Long> seqs() {
      return List.copyOf(seqs);
    }

    synchronized List<Long> startedAt() {
      return List.copyOf(startedAt);
    }
  }

  private static AuditHead head(long seq) {
    return new AuditHead(seq, AuditLines.sha256("checkpoint " + seq));
  }

  @Test
  void checkpointsComingFast_areWrittenOnceASpacing_theLatestEachTime_andAtClose()
      throws Exception {
    TimedAnchor anchor = new TimedAnchor();
    long start = System.nanoTime();
    try (AnchorWriter writer = new AnchorWriter(anchor, SPACING, () -> {})) {
      for (long seq = 1; seq <= 200; seq++) {
        writer.offer(head(seq));
        Thread.sleep(5);
      }
    }
    long elapsed = System.nanoTime() - start;

    List<Long> seqs = anchor.seqs();
    assertThat(seqs.get(0)).isEqualTo(1);
    assertThat(seqs).isSorted().doesNotHaveDuplicates().endsWith(200L);
    // One write at once, one per spacing after it, and the one at close.
    assertThat(seqs.size()).isLessThanOrEqualTo(2 + (int) (elapsed / SPACING.toNanos()));
    List<Long> startedAt = anchor.startedAt();
    for (int i = 1; i < startedAt.size() - 1; i++) {
      assertThat(startedAt.get(i) - startedAt.get(i - 1))
          .as("write %d started after write %d", i + 1, i)
          .isGreaterThanOrEqualTo(SPACING.minusMillis(20).toNanos());
    }
  }

  @Test
  void aCheckpointAfterTheSpacing_isWrittenAtOnce() throws Exception {
    TimedAnchor anchor = new TimedAnchor();
    try (AnchorWriter writer = new AnchorWriter(anchor, SPACING, () -> {})) {
      writer.offer(head(1));
      awaitWrites(anchor, 1);
      Thread.sleep(SPACING.toMillis() + 50);
      long offered = System.nanoTime();
      writer.offer(head(2));
      awaitWrites(anchor, 2);
      assertThat(anchor.startedAt().get(1) - offered).isLessThan(SPACING.toNanos());
    }
    assertThat(anchor.seqs()).containsExactly(1L, 2L);
  }

  @Test
  void aFailedWrite_isReported_andTheNextCheckpointIsWritten() throws Exception {
    TimedAnchor anchor = new TimedAnchor();
    anchor.fail = true;
    AtomicInteger failures = new AtomicInteger();
    try (AnchorWriter writer = new AnchorWriter(anchor, SPACING, failures::incrementAndGet)) {
      writer.offer(head(5));
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (failures.get() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(1);
      }
      assertThat(failures).hasValue(1);
      writer.offer(head(7));
    }
    assertThat(anchor.seqs()).containsExactly(7L);
  }

  @Test
  void close_withNothingNew_writesNothingMore() throws Exception {
    TimedAnchor anchor = new TimedAnchor();
    try (AnchorWriter writer = new AnchorWriter(anchor, SPACING, () -> {})) {
      writer.offer(head(3));
      awaitWrites(anchor, 1);
    }
    assertThat(anchor.seqs()).containsExactly(3L);
  }

  private static void awaitWrites(TimedAnchor anchor, int writes) throws InterruptedException {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (anchor.startedAt().size() < writes && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    assertThat(anchor.startedAt()).hasSize(writes);
  }
}
