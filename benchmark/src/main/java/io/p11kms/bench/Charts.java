package io.p11kms.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The run's charts: throughput and p99 by concurrency, and throughput by key count. */
final class Charts {
  static final String[] SERVICE_OPERATIONS = {"Encrypt", "Decrypt", "GenerateDataKey"};

  private Charts() {}

  static void write(Path dir, List<Point> points) throws IOException {
    List<Integer> concurrencies =
        points.stream()
            .filter(p -> p.phase().equals("service"))
            .map(Point::concurrency)
            .distinct()
            .sorted()
            .toList();
    List<String> groups = concurrencies.stream().map(c -> c + " in flight").toList();
    Optional<Point> direct =
        points.stream()
            .filter(p -> p.phase().equals("direct"))
            .max((a, b) -> Double.compare(a.opsPerSecond(), b.opsPerSecond()));
    Files.writeString(
        dir.resolve("throughput.svg"),
        SvgBarChart.render(
            "Service over gRPC (loopback), 256-byte plaintext, 1 key",
            "calls in flight",
            "operations per second",
            groups,
            serviceSeries(points, concurrencies, false),
            direct
                .map(
                    d ->
                        new SvgBarChart.Reference(
                            "direct Pkcs11Hsm.encrypt, best ("
                                + d.concurrency()
                                + " threads): "
                                + SvgBarChart.compact(d.opsPerSecond())
                                + "/s",
                            d.opsPerSecond()))
                .orElse(null)));
    Files.writeString(
        dir.resolve("latency.svg"),
        SvgBarChart.render(
            "Service p99 latency, closed loop, 1 key",
            "calls in flight",
            "p99 latency (ms)",
            groups,
            serviceSeries(points, concurrencies, true),
            null));
    List<Integer> keyCounts =
        points.stream()
            .filter(p -> p.phase().equals("keys"))
            .map(Point::keys)
            .distinct()
            .sorted()
            .toList();
    List<SvgBarChart.Series> keySeries = new ArrayList<>();
    for (String operation : new String[] {"Encrypt", KeyCountPoints.ZIPF_ENCRYPT, "Decrypt"}) {
      double[] values = new double[keyCounts.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = find(points, "keys", operation, -1, keyCounts.get(i), false);
      }
      keySeries.add(new SvgBarChart.Series(operation, values));
    }
    Files.writeString(
        dir.resolve("keys.svg"),
        SvgBarChart.render(
            "Throughput by key count, a key per call uniformly at random or by Zipf(1.0)",
            "keys",
            "operations per second",
            keyCounts.stream().map(k -> String.format("%,d", k)).toList(),
            keySeries,
            null));
  }

  private static List<SvgBarChart.Series> serviceSeries(
      List<Point> points, List<Integer> concurrencies, boolean p99) {
    List<SvgBarChart.Series> series = new ArrayList<>();
    for (String operation : SERVICE_OPERATIONS) {
      double[] values = new double[concurrencies.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = find(points, "service", operation, concurrencies.get(i), -1, p99);
      }
      series.add(new SvgBarChart.Series(operation, values));
    }
    return series;
  }

  /** Throughput (or p99) of the matching point; -1 matches any concurrency or key count. */
  private static double find(
      List<Point> points, String phase, String operation, int concurrency, int keys, boolean p99) {
    return points.stream()
        .filter(p -> p.phase().equals(phase) && p.operation().equals(operation))
        .filter(p -> concurrency < 0 || p.concurrency() == concurrency)
        .filter(p -> keys < 0 || p.keys() == keys)
        .findFirst()
        .map(p -> p99 ? p.p99Millis() : p.opsPerSecond())
        .orElse(Double.NaN);
  }
}
