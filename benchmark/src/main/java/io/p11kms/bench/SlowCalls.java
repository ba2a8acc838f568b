package io.p11kms.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The calls of an open-loop point slower than a threshold, each kept as when it was due and how
 * long it took, on the wall clock the GC logs stamp their pauses with: what share of the tail a
 * collector's pause explains ({@link #nearPauses}). Calls beyond the capacity are not kept.
 */
final class SlowCalls {
  private final long thresholdNanos;
  private final long[] due;
  private final long[] latency;
  private final AtomicInteger next = new AtomicInteger();
  private final Instant wallAtOrigin = Instant.now();
  private final long nanoAtOrigin = System.nanoTime();

  SlowCalls(Duration threshold, int capacity) {
    this.thresholdNanos = threshold.toNanos();
    this.due = new long[capacity];
    this.latency = new long[capacity];
  }

  /** Keeps the call due at {@code dueNanos} ({@link System#nanoTime}) if it took too long. */
  void record(long dueNanos, long latencyNanos) {
    if (latencyNanos <= thresholdNanos) {
      return;
    }
    int i = next.getAndIncrement();
    if (i < due.length) {
      due[i] = dueNanos;
      latency[i] = latencyNanos;
    }
  }

  /** How many calls were over the threshold, kept or not. */
  int count() {
    return next.get();
  }

  /**
   * Writes the kept slow calls to {@code file}, one a line in the order they were due: when, in
   * milliseconds since {@code from}, and how long each took ({@code due_ms,latency_ms}): whether
   * the tail comes in bursts (a stall) or spread out (queueing).
   */
  void write(Path file, Instant from) {
    int kept = Math.min(next.get(), due.length);
    Integer[] order = new Integer[kept];
    for (int i = 0; i < kept; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.comparingLong(i -> due[i]));
    StringBuilder csv = new StringBuilder("due_ms,latency_ms\n");
    for (int i : order) {
      Instant dueAt = wallAtOrigin.plusNanos(due[i] - nanoAtOrigin);
      csv.append(
          String.format(
              Locale.ROOT,
              "%.3f,%.3f%n",
              Duration.between(from, dueAt).toNanos() / 1e6,
              latency[i] / 1e6));
    }
    try {
      Files.writeString(file, csv);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /**
   * The share of the kept slow calls that were due during one of {@code pauses} or within {@code
   * after} of its end, and the share of the window {@code from}-{@code to} those spans cover: what
   * the share would be if the slow calls had nothing to do with the pauses.
   */
  Share nearPauses(List<GcLog.Pause> pauses, Duration after, Instant from, Instant to) {
    int kept = Math.min(next.get(), due.length);
    int near = 0;
    for (int i = 0; i < kept; i++) {
      Instant dueAt = wallAtOrigin.plusNanos(due[i] - nanoAtOrigin);
      for (GcLog.Pause p : pauses) {
        if (!dueAt.isBefore(p.started()) && !dueAt.isAfter(p.ended().plus(after))) {
          near++;
          break;
        }
      }
    }
    return new Share(kept, near, covered(pauses, after, from, to));
  }

  /** The share of from-to inside a pause or within {@code after} of its end (overlaps once). */
  private static double covered(
      List<GcLog.Pause> pauses, Duration after, Instant from, Instant to) {
    List<GcLog.Pause> sorted = new ArrayList<>(pauses);
    sorted.sort((a, b) -> a.started().compareTo(b.started()));
    long coveredNanos = 0;
    Instant reach = from;
    for (GcLog.Pause p : sorted) {
      Instant start = max(p.started(), reach);
      Instant end = min(p.ended().plus(after), to);
      if (end.isAfter(start)) {
        coveredNanos += Duration.between(start, end).toNanos();
        reach = end;
      }
    }
    long window = Duration.between(from, to).toNanos();
    return window <= 0 ? 0 : (double) coveredNanos / window;
  }

  private static Instant max(Instant a, Instant b) {
    return a.isAfter(b) ? a : b;
  }

  private static Instant min(Instant a, Instant b) {
    return a.isBefore(b) ? a : b;
  }

  /** Of {@code calls} slow calls, {@code near} near a pause; the spans cover {@code chance}. */
  record Share(int calls, int near, double chance) {
    double nearShare() {
      return calls == 0 ? 0 : (double) near / calls;
    }

    @Override
    public String toString() {
      return String.format(
          Locale.ROOT,
          "%d of %d (%.0f%%; those spans are %.1f%% of the time)",
          near,
          calls,
          100 * nearShare(),
          100 * chance);
    }
  }
}
