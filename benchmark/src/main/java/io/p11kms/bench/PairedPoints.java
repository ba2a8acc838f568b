package io.p11kms.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * Two paths measured in alternation (A, B, A, B, ...) on the same machine: the ratio of B's
 * throughput to A's over all the pairs (the ratio of their sums), each pair's own ratio, and each
 * path's CPU per call over its points (weighted by calls). A swing of a shared machine between two
 * points moves one pair's ratio; the sums take each path's points from across the same stretch of
 * time, and the pairs printed side by side show how far the ratio swung.
 *
 * @param first path A's points, in the order measured
 * @param second path B's points, each measured right after the A point of the same index
 */
record PairedPoints(List<Point> first, List<Point> second) {
  PairedPoints {
    if (first.isEmpty() || first.size() != second.size()) {
      throw new IllegalArgumentException("pairs need as many points of each path, at least one");
    }
    first = List.copyOf(first);
    second = List.copyOf(second);
  }

  /** B's throughput over A's, over all the pairs (each point measured for the same time). */
  double ratio() {
    return sum(second, Point::opsPerSecond) / sum(first, Point::opsPerSecond);
  }

  /** Each pair's B throughput over its A throughput, in the order measured. */
  List<Double> pairRatios() {
    List<Double> ratios = new ArrayList<>();
    for (int i = 0; i < first.size(); i++) {
      ratios.add(second.get(i).opsPerSecond() / first.get(i).opsPerSecond());
    }
    return ratios;
  }

  /** The server's CPU per call of A's points together (their CPU over their calls). */
  double firstServerMicrosPerCall() {
    return perCall(first, Point::serverCpuMicrosPerCall);
  }

  double secondServerMicrosPerCall() {
    return perCall(second, Point::serverCpuMicrosPerCall);
  }

  /** The client's CPU per call of A's points together. */
  double firstClientMicrosPerCall() {
    return perCall(first, Point::clientCpuMicrosPerCall);
  }

  double secondClientMicrosPerCall() {
    return perCall(second, Point::clientCpuMicrosPerCall);
  }

  /** The highest p99 of B's points (the tail is not averaged away). */
  double secondWorstP99Millis() {
    return second.stream().mapToDouble(Point::p99Millis).max().orElseThrow();
  }

  private static double sum(List<Point> points, ToDoubleFunction<Point> value) {
    return points.stream().mapToDouble(value).sum();
  }

  private static double perCall(List<Point> points, ToDoubleFunction<Point> microsPerCall) {
    double micros = 0;
    long calls = 0;
    for (Point p : points) {
      micros += microsPerCall.applyAsDouble(p) * p.calls();
      calls += p.calls();
    }
    return calls == 0 ? Double.NaN : micros / calls;
  }
}
