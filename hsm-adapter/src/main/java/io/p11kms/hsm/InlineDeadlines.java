package io.p11kms.hsm;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The deadlines of the inline calls in flight ({@link InlineTokenCalls}), checked by one thread
 * every {@code period}. Adding a call is a set insertion, with no lock and no wake-up: a timer per
 * call woke its thread on every call made while no other was in flight, and made the service slower
 * than the hand-off it replaced. A call is answered at most one period after its deadline.
 */
final class InlineDeadlines {
  /** A call in flight, abandoned and answered once its deadline passes, unless it finished. */
  static final class Pending {
    private final long deadlineNanos;
    private final BooleanSupplier abandon;
    private final Runnable answer;

    private Pending(long deadlineNanos, BooleanSupplier abandon, Runnable answer) {
      this.deadlineNanos = deadlineNanos;
      this.abandon = abandon;
      this.answer = answer;
    }
  }

  private final Set<Pending> pending = ConcurrentHashMap.newKeySet();
  private final long periodNanos;
  private final Executor answerers;
  private volatile ScheduledExecutorService sweeper;
  private volatile boolean closing;

  /**
   * @param period how often the deadlines are checked
   * @param answerers where an answer runs: it may write an audit record, and a slow one must not
   *     hold the other calls' deadlines
   */
  InlineDeadlines(Duration period, Executor answerers) {
    this.periodNanos = period.toNanos();
    this.answerers = answerers;
  }

  /** The check period for a call deadline of {@code callTimeout}: a twentieth, 5-100 ms. */
  static Duration periodFor(Duration callTimeout) {
    long millis = Math.min(100, Math.max(5, callTimeout.toMillis() / 20));
    return Duration.ofMillis(millis);
  }

  /**
   * Watches a call until {@link #remove}: once {@code timeoutNanos} have passed, {@code abandon}
   * runs and, when it returns true, {@code answer}.
   *
   * @throws RejectedExecutionException once {@link #close()} was called
   */
  Pending add(long timeoutNanos, BooleanSupplier abandon, Runnable answer) {
    Pending call = new Pending(System.nanoTime() + timeoutNanos, abandon, answer);
    pending.add(call);
    // Read after the add: a check that found the set empty after close() ended the thread.
    if (closing) {
      pending.remove(call);
      throw new RejectedExecutionException("the HSM adapter is closed");
    }
    if (sweeper == null) {
      startSweeper();
    }
    return call;
  }

  void remove(Pending call) {
    pending.remove(call);
  }

  /**
   * Takes no more calls; the deadlines of those in flight still fire (a call hung in the library
   * still gets its answer), and the thread ends at the first check that finds none left.
   */
  void close() {
    closing = true;
  }

  private synchronized void startSweeper() {
    if (sweeper != null) {
      return;
    }
    ScheduledExecutorService started =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "p11kms-token-deadlines");
              t.setDaemon(true);
              return t;
            });
    started.scheduleWithFixedDelay(this::sweep, periodNanos, periodNanos, TimeUnit.NANOSECONDS);
    sweeper = started;
  }

  private void sweep() {
    long now = System.nanoTime();
    for (Pending call : pending) {
      if (now - call.deadlineNanos >= 0 && pending.remove(call) && call.abandon.getAsBoolean()) {
        answer(call.answer);
      }
    }
    if (closing && pending.isEmpty()) {
      sweeper.shutdown();
    }
  }

  private void answer(Runnable answer) {
    try {
      answerers.execute(answer);
    } catch (RejectedExecutionException e) {
      answer.run();
    }
  }
}
