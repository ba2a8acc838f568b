package io.p11kms.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertIterableEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class PairedPointsTest {
  private static Point point(double opsPerSecond, double serverUs, double clientUs, double p99) {
    long calls = Math.round(opsPerSecond * 10);
    return new Point(
        "frontend",
        "x",
        64,
        1,
        opsPerSecond,
        1,
        p99,
        p99,
        calls,
        0,
        clientUs,
        serverUs,
        0,
        ServerThreads.Split.NONE,
        0);
  }

  @Test
  void theRatioIsOfTheSumsNotTheMeanOfThePairs() {
    // Pair 1: 900 / 1000 = 0.9; pair 2: 300 / 200 = 1.5. Their mean would be 1.2; the sums say
    // 1,200 / 1,200 = 1.0.
    PairedPoints pairs =
        new PairedPoints(
            List.of(point(1000, 100, 30, 5), point(200, 100, 30, 5)),
            List.of(point(900, 200, 50, 7), point(300, 200, 50, 9)));
    assertEquals(1.0, pairs.ratio(), 1e-9);
    assertIterableEquals(List.of(0.9, 1.5), pairs.pairRatios());
  }

  @Test
  void cpuPerCallIsWeightedByCalls() {
    // 10,000 calls at 100 us and 2,000 calls at 400 us: 1.8 s over 12,000 calls = 150 us.
    PairedPoints pairs =
        new PairedPoints(
            List.of(point(1000, 100, 20, 5), point(200, 400, 80, 5)),
            List.of(point(500, 300, 40, 7), point(500, 100, 60, 9)));
    assertEquals(150, pairs.firstServerMicrosPerCall(), 1e-9);
    assertEquals(30, pairs.firstClientMicrosPerCall(), 1e-9);
    assertEquals(200, pairs.secondServerMicrosPerCall(), 1e-9);
    assertEquals(50, pairs.secondClientMicrosPerCall(), 1e-9);
    assertEquals(9, pairs.secondWorstP99Millis(), 1e-9);
  }

  @Test
  void pairsNeedAsManyPointsOfEachPath() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new PairedPoints(List.of(point(1, 1, 1, 1)), List.of()));
    assertThrows(IllegalArgumentException.class, () -> new PairedPoints(List.of(), List.of()));
  }
}
