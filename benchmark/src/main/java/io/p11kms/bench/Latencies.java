package io.p11kms.bench;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Latencies of one measured point, in nanoseconds, kept in a preallocated array and sorted once at
 * the end (no histogram library needed). Samples beyond the capacity are counted but not kept.
 */
final class Latencies {
  private final long[] samples;
  private final AtomicInteger next = new AtomicInteger();

  Latencies(int capacity) {
    this.samples = new long[capacity];
  }

  void record(long nanos) {
    int i = next.getAndIncrement();
    if (i < samples.length) {
      samples[i] = nanos;
    }
  }

  /** Sorted copy of the kept samples; call once recording has stopped. */
  Sorted sorted() {
    int n = Math.min(next.get(), samples.length);
    long[] copy = Arrays.copyOf(samples, n);
    Arrays.sort(copy);
    return new Sorted(copy);
  }

  /** Percentiles over sorted samples. */
  record Sorted(long[] nanos) {
    /** The q-quantile (0 < q <= 1) in milliseconds, nearest rank; NaN when empty. */
    double millis(double q) {
      if (nanos.length == 0) {
        return Double.NaN;
      }
      int rank = (int) Math.ceil(q * nanos.length);
      return nanos[Math.max(0, Math.min(nanos.length - 1, rank - 1))] / 1e6;
    }
  }
}
