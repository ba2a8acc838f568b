package io.p11kms.hsm.session;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CacheCarryOverTest {
  @Test
  void everyKeyFromOneHitPerMissUp() {
    assertThat(CacheCarryOver.keys(13_000, 78, 22)).isEqualTo(13_000);
    assertThat(CacheCarryOver.keys(13_000, 50, 50)).isEqualTo(13_000);
  }

  @Test
  void belowThat_theCacheTimesItsHitsPerMiss() {
    // A uniform choice over 100,000 keys with 13,000 cached: hit rate 0.12.
    assertThat(CacheCarryOver.keys(13_000, 12, 88)).isEqualTo(1_772);
    assertThat(CacheCarryOver.keys(40, 10, 40)).isEqualTo(10);
    assertThat(CacheCarryOver.keys(40, 0, 40)).isZero();
  }

  @Test
  void nothingMissed_allOfIt_andAnEmptyCache_nothing() {
    assertThat(CacheCarryOver.keys(100, 0, 0)).isEqualTo(100);
    assertThat(CacheCarryOver.keys(0, 10, 1)).isZero();
  }

  @Test
  void noLongOverflowOnALongRunningServer() {
    assertThat(CacheCarryOver.keys(13_000, 1L << 40, 1L << 42)).isEqualTo(3_250);
  }
}
