package io.p11kms.server.audit;

import java.time.Duration;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes checkpoints into an {@link AuditAnchor} on a thread of its own, no request waiting for it:
 * on SoftHSM2 a write makes and destroys a token object, about 35 ms in which the token serves the
 * other sessions' calls more slowly. So writes start at least {@code spacing} apart, whatever the
 * request rate: a checkpoint handed over sooner waits, and of those that wait only the latest is
 * written. It never writes an earlier checkpoint after a later one. {@link #close} writes the
 * latest one at once.
 *
 * <p>A failed write is logged and reported to {@code onFailure}; the log then checkpoints again,
 * and that checkpoint is anchored in its turn. Meanwhile, and while a checkpoint waits, the anchor
 * lags the log.
 */
final class AnchorWriter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AnchorWriter.class);

  private final AuditAnchor anchor;
  private final long spacingNanos;
  private final Runnable onFailure;
  private final ScheduledThreadPoolExecutor thread;

  /** The latest checkpoint handed over and not yet written. */
  private final AtomicReference<AuditHead> pending = new AtomicReference<>();

  /** A write is due on the thread (scheduled or running, not yet taken {@link #pending}). */
  private final AtomicBoolean due = new AtomicBoolean();

  /** When the next write may start ({@link System#nanoTime}). */
  private volatile long nextWrite = System.nanoTime();

  /** The sequence number last written; on the thread only. */
  private long written;

  AnchorWriter(AuditAnchor anchor, Duration spacing, Runnable onFailure) {
    this.anchor = anchor;
    this.spacingNanos = spacing.toNanos();
    this.onFailure = onFailure;
    this.thread =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "p11kms-audit-anchor");
              t.setDaemon(true);
              return t;
            });
    // On close the latest checkpoint is written at once; a write waiting for its turn is dropped.
    thread.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
  }

  /** Hands over {@code checkpoint}, already on disk: written now, or at its turn. */
  void offer(AuditHead checkpoint) {
    pending.accumulateAndGet(checkpoint, (a, b) -> a == null || b.seq() > a.seq() ? b : a);
    if (due.compareAndSet(false, true)) {
      long delay = Math.max(0, nextWrite - System.nanoTime());
      thread.schedule(this::writePending, delay, TimeUnit.NANOSECONDS);
    }
  }

  private void writePending() {
    // Cleared first: a checkpoint handed over from here on schedules its own write.
    due.set(false);
    AuditHead head = pending.getAndSet(null);
    if (head == null || head.seq() <= written) {
      return;
    }
    nextWrite = System.nanoTime() + spacingNanos;
    try {
      anchor.write(head);
      written = head.seq();
    } catch (RuntimeException e) {
      LOG.error(
          "cannot anchor audit checkpoint {} in the token ({}); the next record checkpoints again",
          head.seq(),
          e.getMessage());
      onFailure.run();
    }
  }

  /** Writes the latest checkpoint handed over, if not yet written, and waits for it. */
  @Override
  public void close() {
    thread.execute(this::writePending);
    thread.shutdown();
    try {
      thread.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
