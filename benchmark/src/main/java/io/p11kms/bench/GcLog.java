package io.p11kms.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The stop-the-world pauses a JVM's GC log ({@link #option}: one line per pause, stamped with the
 * wall clock when it ended) records in a window of time: how a point's latency tail lines up with
 * the collector. {@code bench.sh} and {@link Bench} have the client and the server write one
 * ({@link #CLIENT}, {@link #SERVER} in the results folder).
 */
final class GcLog {
  /** The benchmark client's GC log in the results folder (bench.sh names it too). */
  static final String CLIENT = "client-gc.log";

  /** The server's GC log in the results folder (not the restart's). */
  static final String SERVER = "server-gc.log";

  /** The JVM option that writes the log this reads to {@code file}. */
  static String option(Path file) {
    return "-Xlog:gc:file=" + file + ":time";
  }

  private static final Pattern PAUSE =
      Pattern.compile("^\\[([^\\]]+)\\].* Pause .* (\\d+(?:\\.\\d+)?)ms$");
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ", Locale.ROOT);

  /** The pauses of one window: how many, the longest and their sum, in milliseconds. */
  record Pauses(int count, double longestMillis, double totalMillis) {
    @Override
    public String toString() {
      return String.format(
          Locale.ROOT, "%d, longest %.1f ms, %.1f ms in all", count, longestMillis, totalMillis);
    }
  }

  private GcLog() {}

  /** One pause: when it started and ended (its end stamp less its length). */
  record Pause(Instant started, Instant ended) {}

  /** The pauses {@code file} records as ended from {@code from} to {@code to}; none without it. */
  static Pauses pauses(Path file, Instant from, Instant to) {
    return summary(list(file, from, to));
  }

  static Pauses pauses(List<String> lines, Instant from, Instant to) {
    return summary(list(lines, from, to));
  }

  /** Each pause {@code file} records as ended from {@code from} to {@code to}; none without it. */
  static List<Pause> list(Path file, Instant from, Instant to) {
    if (!Files.exists(file)) {
      return List.of();
    }
    try {
      return list(Files.readAllLines(file), from, to);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  static List<Pause> list(List<String> lines, Instant from, Instant to) {
    List<Pause> pauses = new ArrayList<>();
    for (String line : lines) {
      Matcher m = PAUSE.matcher(line);
      if (!m.matches()) {
        continue;
      }
      Instant ended;
      try {
        ended = OffsetDateTime.parse(m.group(1), TIME).toInstant();
      } catch (DateTimeParseException e) {
        continue;
      }
      if (ended.isBefore(from) || ended.isAfter(to)) {
        continue;
      }
      long nanos = Math.round(Double.parseDouble(m.group(2)) * 1e6);
      pauses.add(new Pause(ended.minusNanos(nanos), ended));
    }
    return pauses;
  }

  private static Pauses summary(List<Pause> pauses) {
    double longest = 0;
    double total = 0;
    for (Pause p : pauses) {
      double millis = Duration.between(p.started(), p.ended()).toNanos() / 1e6;
      longest = Math.max(longest, millis);
      total += millis;
    }
    return new Pauses(pauses.size(), longest, total);
  }
}
