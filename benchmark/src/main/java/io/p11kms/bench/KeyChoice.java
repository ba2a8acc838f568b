package io.p11kms.bench;

import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How a call picks its key out of {@code n}: uniformly, or by a Zipf law where the key of rank
 * {@code r} (1 the hottest) is picked with a probability proportional to {@code 1 / r^s}. Real
 * callers do not pick keys uniformly: a few keys take most calls, and a long tail is used now and
 * then. The ranks are laid over the keys in a fixed shuffled order, so that the hottest keys are
 * not the ones made first.
 */
abstract sealed class KeyChoice {
  /** The index of the key for the next call, 0 to {@code n - 1}. */
  abstract int next();

  /** How the report names this choice. */
  abstract String name();

  static KeyChoice uniform(int n) {
    return new Uniform(n);
  }

  static KeyChoice zipf(int n, double exponent) {
    return new Zipf(n, exponent);
  }

  private static final class Uniform extends KeyChoice {
    private final int n;

    private Uniform(int n) {
      this.n = n;
    }

    @Override
    int next() {
      return ThreadLocalRandom.current().nextInt(n);
    }

    @Override
    String name() {
      return "uniform";
    }
  }

  private static final class Zipf extends KeyChoice {
    private final double exponent;
    // cumulative[r] = P(rank <= r + 1); keyOfRank[r] = the key index of rank r + 1.
    private final double[] cumulative;
    private final int[] keyOfRank;

    private Zipf(int n, double exponent) {
      this.exponent = exponent;
      this.cumulative = new double[n];
      double sum = 0;
      for (int r = 0; r < n; r++) {
        sum += 1 / Math.pow(r + 1, exponent);
        cumulative[r] = sum;
      }
      for (int r = 0; r < n; r++) {
        cumulative[r] /= sum;
      }
      this.keyOfRank = new int[n];
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

    @Override
    int next() {
      double u = ThreadLocalRandom.current().nextDouble();
      int r = Arrays.binarySearch(cumulative, u);
      int rank = r >= 0 ? r : Math.min(-r - 1, cumulative.length - 1);
      return keyOfRank[rank];
    }

    @Override
    String name() {
      return String.format(java.util.Locale.ROOT, "Zipf(%.1f)", exponent);
    }
  }
}
