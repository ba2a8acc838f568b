package io.p11kms.hsm;

import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A Zipf(s) choice of a key index out of {@code n} for the adapter's opt-in benchmarks, as the
 * service benchmark picks keys: the key of rank {@code r} (1 the hottest) with a probability
 * proportional to {@code 1 / r^s}, the ranks laid over the indexes in a fixed shuffled order.
 */
final class ZipfChoice {
  // cumulative[r] = P(rank <= r + 1); keyOfRank[r] = the key index of rank r + 1.
  private final double[] cumulative;
  private final int[] keyOfRank;

  ZipfChoice(int n, double exponent) {
    cumulative = new double[n];
    double sum = 0;
    for (int r = 0; r < n; r++) {
      sum += 1 / Math.pow(r + 1, exponent);
      cumulative[r] = sum;
    }
    for (int r = 0; r < n; r++) {
      cumulative[r] /= sum;
    }
    keyOfRank = new int[n];
    for (int i = 0; i < n; i++) {
      keyOfRank[i] = i;
    }
    Random shuffle = new Random(n);
    for (int i = n - 1; i > 0; i--) {
      int j = shuffle.nextInt(i + 1);
      int t = keyOfRank[i];
      keyOfRank[i] = keyOfRank[j];
      keyOfRank[j] = t;
    }
  }

  /** The next key index, by the Zipf law. */
  int next() {
    int r = Arrays.binarySearch(cumulative, ThreadLocalRandom.current().nextDouble());
    return keyOfRank[r >= 0 ? r : Math.min(-r - 1, keyOfRank.length - 1)];
  }

  /** A key index among the {@code ranks} hottest, uniformly. */
  int amongHottest(int ranks) {
    return keyOfRank[ThreadLocalRandom.current().nextInt(ranks)];
  }
}
