package io.p11kms.server.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal and the file is large;
 * never in scripts, pipes or tests.
 */
final class Progress {
  /** Files smaller than this finish too fast for a bar to help. */
  static final long MIN_BYTES = 8L * 1024 * 1024;

  private static final long REDRAW_NANOS = 100_000_000L;

  private final long total;
  private final boolean enabled;
  private final PrintStream err = System.err;
  private long lastDraw;

  Progress(long total, boolean wanted) {
    this.total = total;
    this.enabled = wanted && total >= MIN_BYTES && System.console() != null;
  }

  void update(long done) {
    if (!enabled) {
      return;
    }
    long now = System.nanoTime();
    if (now - lastDraw < REDRAW_NANOS && done < total) {
      return;
    }
    lastDraw = now;
    int width = 30;
    int filled = (int) Math.min(width, done * width / Math.max(1, total));
    err.print(
        String.format(
            Locale.ROOT,
            "\r[%s%s] %3d%% %,d / %,d MiB",
            "#".repeat(filled),
            " ".repeat(width - filled),
            done * 100 / Math.max(1, total),
            done >> 20,
            total >> 20));
    err.flush();
  }

  void finish() {
    if (enabled) {
      update(total);
      err.println();
    }
  }
}
