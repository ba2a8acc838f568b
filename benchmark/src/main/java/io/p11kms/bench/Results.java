package io.p11kms.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** What a run measured: the points and the headline figures, as a table, CSV files and charts. */
final class Results {
  private final List<Point> points = new ArrayList<>();
  private final Map<String, Summary> summary = new LinkedHashMap<>();

  /** A headline figure, with its target when it has one ({@code met} null when it has none). */
  record Summary(String name, double value, String unit, String target, Boolean met) {}

  void add(Point point) {
    points.add(point);
    // The time the point ended, to find it in a recording of the server (--jfr).
    System.out.println("  " + row(point) + "  ended " + java.time.Instant.now());
    if (point.phase().equals("keys") && !point.serverThreads().isEmpty()) {
      System.out.println(threadRow(point));
    }
  }

  void addAll(List<Point> more) {
    more.forEach(this::add);
  }

  List<Point> points() {
    return points;
  }

  void summary(String name, double value, String unit, String target, Boolean met) {
    summary.put(name, new Summary(name, value, unit, target, met));
  }

  static String header() {
    return String.format(
        Locale.ROOT,
        "%-10s %-18s %5s %7s %9s %8s %8s %8s %6s %8s %8s %6s %6s",
        "phase",
        "operation",
        "conc",
        "keys",
        "ops/s",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "errors",
        "cli us",
        "srv us",
        "other",
        "srv KB");
  }

  static String row(Point p) {
    return String.format(
        Locale.ROOT,
        "%-10s %-18s %5s %7d %9.0f %8.2f %8.2f %8.2f %6d %8.0f %8.0f %6.2f %6.1f",
        p.phase(),
        p.operation(),
        p.concurrency() == 0 ? "rate" : Integer.toString(p.concurrency()),
        p.keys(),
        p.opsPerSecond(),
        p.p50Millis(),
        p.p99Millis(),
        p.p999Millis(),
        p.errors(),
        p.clientCpuMicrosPerCall(),
        p.serverCpuMicrosPerCall(),
        p.otherCores(),
        p.serverBytesPerCall() / 1024);
  }

  /** The full table and the summary, as printed at the end and saved as report.txt. */
  String report(String machine) {
    StringBuilder out =
        new StringBuilder(machine)
            .append('\n')
            .append("cli us / srv us: CPU microseconds per call in this JVM / in the server;")
            .append(" other: cores used by other processes during the point;")
            .append(" srv KB: KiB the server's heap allocated per call\n")
            .append(header())
            .append('\n');
    points.forEach(p -> out.append(row(p)).append('\n'));
    out.append('\n');
    List<Point> split = keyCountSplits();
    if (!split.isEmpty()) {
      out.append("srv us by thread group at the key-count points (threads.csv has every point):\n");
      split.forEach(p -> out.append(threadRow(p)).append('\n'));
      out.append('\n');
    }
    for (Summary s : summary.values()) {
      out.append(
          String.format(
              Locale.ROOT,
              "%-62s %12s %-5s %s%n",
              s.name(),
              formatValue(s.value()),
              s.unit(),
              s.met() == null ? "" : s.target() + (s.met() ? "  MET" : "  MISSED")));
    }
    return out.toString();
  }

  void write(Path dir, String machine) throws IOException {
    Files.createDirectories(dir);
    StringBuilder csv =
        new StringBuilder(
            "phase,operation,concurrency,keys,ops_per_s,p50_ms,p99_ms,p999_ms,calls,errors,"
                + "client_cpu_us_per_call,server_cpu_us_per_call,other_cores,"
                + "server_alloc_bytes_per_call\n");
    for (Point p : points) {
      csv.append(
          String.format(
              Locale.ROOT,
              "%s,%s,%d,%d,%.1f,%.3f,%.3f,%.3f,%d,%d,%.1f,%.1f,%.2f,%.0f%n",
              p.phase(),
              p.operation(),
              p.concurrency(),
              p.keys(),
              p.opsPerSecond(),
              p.p50Millis(),
              p.p99Millis(),
              p.p999Millis(),
              p.calls(),
              p.errors(),
              p.clientCpuMicrosPerCall(),
              p.serverCpuMicrosPerCall(),
              p.otherCores(),
              p.serverBytesPerCall()));
    }
    Files.writeString(dir.resolve("points.csv"), csv);
    Files.writeString(dir.resolve("threads.csv"), threadsCsv());
    StringBuilder sum = new StringBuilder("name,value,unit,target,met\n");
    for (Summary s : summary.values()) {
      sum.append(
          String.format(
              Locale.ROOT,
              "%s,%s,%s,%s,%s%n",
              s.name(),
              formatValue(s.value()).replace(",", ""),
              s.unit(),
              s.target() == null ? "" : s.target(),
              s.met() == null ? "" : s.met()));
    }
    Files.writeString(dir.resolve("summary.csv"), sum);
    Files.writeString(dir.resolve("report.txt"), report(machine));
    Charts.write(dir, points);
  }

  /** The key-count points with the server's CPU by thread group. */
  private List<Point> keyCountSplits() {
    return points.stream()
        .filter(p -> p.phase().equals("keys") && !p.serverThreads().isEmpty())
        .toList();
  }

  /** A key-count point's server CPU per call by thread group, as printed after it. */
  static String threadRow(Point p) {
    return String.format(
        Locale.ROOT,
        "  %-18s %7d keys: srv us %.0f = %s",
        p.operation(),
        p.keys(),
        p.serverCpuMicrosPerCall(),
        p.serverThreads());
  }

  /** The server's CPU per call by thread group, a row per point and group. */
  private String threadsCsv() {
    StringBuilder csv =
        new StringBuilder("phase,operation,concurrency,keys,thread_group,server_cpu_us_per_call\n");
    for (Point p : points) {
      if (p.serverThreads().isEmpty()) {
        continue;
      }
      for (ServerThreads.Group g : ServerThreads.Group.values()) {
        csv.append(
            String.format(
                Locale.ROOT,
                "%s,%s,%d,%d,%s,%.1f%n",
                p.phase(),
                p.operation(),
                p.concurrency(),
                p.keys(),
                g.label,
                p.serverThreads().of(g)));
      }
    }
    return csv.toString();
  }

  private static String formatValue(double v) {
    if (v == Math.rint(v) && Math.abs(v) >= 10) {
      return String.format(Locale.ROOT, "%,.0f", v);
    }
    return String.format(Locale.ROOT, "%.2f", v);
  }
}
