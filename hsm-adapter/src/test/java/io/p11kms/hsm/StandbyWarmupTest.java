package io.p11kms.hsm;

import static io.p11kms.hsm.SmallSeals.decrypt;
import static io.p11kms.hsm.SmallSeals.encrypt;
import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xipki.pkcs11.wrapper.PKCS11Constants;

/**
 * A move to the standby instance of the library does not empty the backing key cache: the most used
 * keys are unwrapped on the standby before the move and the rest of the cache's keys right after
 * it, each once, their objects not counted against the new instance's bound, and no object is left
 * in either instance, also when the warm-up fails; a cache whose keys were seldom used again
 * carries over only as many of its most used keys as its hits per miss; the cache's policy keeps
 * what it learned of the keys across the switch.
 */
class StandbyWarmupTest {
  private static final int BOUND = 1_000;
  private static final int HOT = 20;
  private static SoftHsmTestToken token;

  @BeforeAll
  static void createToken() {
    token = SoftHsmTestToken.create();
  }

  @AfterAll
  static void deleteToken() {
    token.close();
  }

  /** Fails C_UnwrapKey from its {@code failFrom}-th call on, while on. */
  private static final class FailingUnwraps implements TokenCallInterceptor {
    final AtomicInteger unwraps = new AtomicInteger();
    volatile int failFrom = Integer.MAX_VALUE;

    @Override
    public long beforeCall(String function) {
      if (function.equals("C_UnwrapKey") && unwraps.incrementAndGet() >= failFrom) {
        return PKCS11Constants.CKR_DEVICE_MEMORY;
      }
      return 0L;
    }
  }

  private static List<WrappedKey> hotKeys(Pkcs11Hsm hsm, int count) {
    List<WrappedKey> keys = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      keys.add(hsm.generateBackingKey());
    }
    return keys;
  }

  private static List<byte[][]> useEach(Pkcs11Hsm hsm, List<WrappedKey> keys) {
    List<byte[][]> sealed = new ArrayList<>();
    for (WrappedKey key : keys) {
      sealed.add(encrypt(hsm, key, 1));
    }
    return sealed;
  }

  @Test
  void afterASwitch_theHotKeysHitAtOnce_andNoObjectIsLeftInEitherInstance() {
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(token.hsmConfig().withLibraryRecycle(BOUND))) {
      int before = hsm.visibleObjectCount();
      List<WrappedKey> keys = hotKeys(hsm, HOT);
      List<byte[][]> sealed = useEach(hsm, keys);
      encrypt(hsm, keys.get(0), BOUND);
      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.libraryRecycles()).isEqualTo(1);

      assertThat(hsm.cachedBackingKeyCount()).isEqualTo(HOT);
      assertThat(hsm.visibleObjectCount())
          .as("the warmed keys, in the instance now in use")
          .isEqualTo(before + HOT);
      long misses = hsm.backingKeyCacheMisses();
      for (int i = 0; i < HOT; i++) {
        assertThat(decrypt(hsm, keys.get(i), sealed.get(i))).containsExactly(7, 8);
      }
      assertThat(hsm.backingKeyCacheMisses()).as("no hot key unwrapped again").isEqualTo(misses);

      // Back onto the first instance, finalized when left: it holds nothing of its first life.
      encrypt(hsm, keys.get(0), BOUND);
      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.libraryRecycles()).isEqualTo(2);
      assertThat(hsm.visibleObjectCount()).isEqualTo(before + HOT);
      hsm.evictCachedBackingKeys();
      assertThat(hsm.visibleObjectCount()).isEqualTo(before);
    }
  }

  @Test
  void theKeysUnwrappedAgain_doNotCountAgainstTheNewInstancesBound() {
    int cacheSize = 64;
    int hotCount = 40;
    HsmConfig config =
        token.hsmConfig().withLibraryRecycle(BOUND).withCache(cacheSize, Duration.ofMinutes(5));
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(config)) {
      List<WrappedKey> keys = hotKeys(hsm, hotCount);
      useEach(hsm, keys);
      encrypt(hsm, keys.get(0), BOUND);
      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.libraryRecycles()).isEqualTo(1);
      assertThat(hsm.cachedBackingKeyCount())
          .as("an eighth warmed before the move, the rest after it")
          .isEqualTo(hotCount);

      // Each seal of a cached key makes one object (the backing key generated beside it).
      encrypt(hsm, keys.get(0), BOUND - 1);
      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.libraryRecycles()).isEqualTo(1);
      encrypt(hsm, keys.get(0), 1);
      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.libraryRecycles()).isEqualTo(2);
    }
  }

  @Test
  void keysBeyondTheWarmedEighth_areUnwrappedAgainAfterTheSwitch_onceEach_andHitAtOnce() {
    int cacheSize = 64;
    int hotCount = 40;
    FailingUnwraps unwraps = new FailingUnwraps();
    HsmConfig config =
        token.hsmConfig().withLibraryRecycle(BOUND).withCache(cacheSize, Duration.ofMinutes(5));
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(config, unwraps)) {
      int before = hsm.visibleObjectCount();
      List<WrappedKey> hot = hotKeys(hsm, hotCount);
      List<byte[][]> sealed = useEach(hsm, hot);
      encrypt(hsm, hot.get(0), BOUND);
      int unwrapsBefore = unwraps.unwraps.get();
      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.libraryRecycles()).isEqualTo(1);

      assertThat(unwraps.unwraps.get() - unwrapsBefore)
          .as("an eighth of the cache before the switch, the rest after it, each key once")
          .isEqualTo(hotCount);
      assertThat(hsm.cachedBackingKeyCount()).isEqualTo(hotCount);
      assertThat(hsm.visibleObjectCount())
          .as("each key once, in the instance now in use")
          .isEqualTo(before + hotCount);
      long misses = hsm.backingKeyCacheMisses();
      for (int i = 0; i < hotCount; i++) {
        assertThat(decrypt(hsm, hot.get(i), sealed.get(i))).containsExactly(7, 8);
      }
      assertThat(hsm.backingKeyCacheMisses()).as("no hot key missed").isEqualTo(misses);
      assertThat(unwraps.unwraps.get() - unwrapsBefore).isEqualTo(hotCount);

      // Back onto the first instance, finalized when left: it holds nothing of its first life.
      encrypt(hsm, hot.get(0), BOUND);
      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.libraryRecycles()).isEqualTo(2);
      assertThat(hsm.visibleObjectCount()).isEqualTo(before + hotCount);
      hsm.evictCachedBackingKeys();
      assertThat(hsm.visibleObjectCount()).isEqualTo(before);
    }
  }

  @Test
  void theWarmUpAndRefill_keepTheMostUsedKeys_notTheTail() {
    int cacheSize = 8;
    HsmConfig config =
        token.hsmConfig().withLibraryRecycle(BOUND).withCache(cacheSize, Duration.ofMinutes(5));
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(config)) {
      int before = hsm.visibleObjectCount();
      // The policy's window (one entry in so small a cache) holds the last key used, a tail key.
      List<WrappedKey> hot = hotKeys(hsm, cacheSize - 1);
      List<byte[][]> sealed = new ArrayList<>();
      for (int round = 0; round < 5; round++) {
        sealed = useEach(hsm, hot);
      }
      // A tail of keys used once each.
      useEach(hsm, hotKeys(hsm, 3 * cacheSize));
      encrypt(hsm, hot.get(0), BOUND);
      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.libraryRecycles()).isEqualTo(1);

      long misses = hsm.backingKeyCacheMisses();
      for (int i = 0; i < hot.size(); i++) {
        assertThat(decrypt(hsm, hot.get(i), sealed.get(i))).containsExactly(7, 8);
      }
      assertThat(hsm.backingKeyCacheMisses()).as("every hot key kept").isEqualTo(misses);
      hsm.evictCachedBackingKeys();
      assertThat(hsm.visibleObjectCount()).isEqualTo(before);
    }
  }

  @Test
  void afterASwitch_theCacheStillKnowsWhichKeysWereUsedMost_andKeepsThemAgainstNewcomers() {
    int cacheSize = 8;
    HsmConfig config =
        token.hsmConfig().withLibraryRecycle(BOUND).withCache(cacheSize, Duration.ofMinutes(5));
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(config)) {
      int before = hsm.visibleObjectCount();
      // Seven keys used four times each (the policy forgets by halving after ten uses per entry of
      // its bound, 80 here: this test stays under that).
      List<WrappedKey> hot = hotKeys(hsm, cacheSize - 1);
      List<byte[][]> sealed = new ArrayList<>();
      for (int round = 0; round < 4; round++) {
        sealed = useEach(hsm, hot);
      }
      // The bound's objects made without touching the cache, then the switch.
      for (int i = 0; i < BOUND; i++) {
        hsm.generateBackingKey();
      }
      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.libraryRecycles()).isEqualTo(1);
      assertThat(hsm.cachedBackingKeyCount()).isEqualTo(hot.size());

      // After it, newcomers used twice each: more often than a key unwrapped once, less than the
      // hot keys were before the switch.
      for (WrappedKey newcomer : hotKeys(hsm, 12)) {
        encrypt(hsm, newcomer, 1);
        encrypt(hsm, newcomer, 1);
      }
      long misses = hsm.backingKeyCacheMisses();
      for (int i = 0; i < hot.size(); i++) {
        assertThat(decrypt(hsm, hot.get(i), sealed.get(i))).containsExactly(7, 8);
      }
      assertThat(hsm.backingKeyCacheMisses())
          .as("no hot key pushed out by a newcomer")
          .isEqualTo(misses);
      hsm.evictCachedBackingKeys();
      assertThat(hsm.visibleObjectCount()).isEqualTo(before);
    }
  }

  @Test
  void aCacheWhoseKeysWereNotUsedAgain_isNotUnwrappedAgain() {
    int cacheSize = 64;
    FailingUnwraps unwraps = new FailingUnwraps();
    HsmConfig config =
        token.hsmConfig().withLibraryRecycle(BOUND).withCache(cacheSize, Duration.ofMinutes(5));
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(config, unwraps)) {
      int before = hsm.visibleObjectCount();
      // Each key used once: every use a miss, no hit.
      useEach(hsm, hotKeys(hsm, 40));
      for (int i = 0; i < BOUND; i++) {
        hsm.generateBackingKey();
      }
      int unwrapsBefore = unwraps.unwraps.get();
      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.libraryRecycles()).isEqualTo(1);

      assertThat(unwraps.unwraps.get() - unwrapsBefore).as("no key unwrapped again").isZero();
      assertThat(hsm.cachedBackingKeyCount()).isZero();
      assertThat(hsm.visibleObjectCount()).isEqualTo(before);
    }
  }

  @Test
  void aCacheUsedLittle_carriesOverItsMostUsedKeys_asManyAsItsHitsPerMiss() {
    int cacheSize = 64;
    FailingUnwraps unwraps = new FailingUnwraps();
    HsmConfig config =
        token.hsmConfig().withLibraryRecycle(BOUND).withCache(cacheSize, Duration.ofMinutes(5));
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(config, unwraps)) {
      int before = hsm.visibleObjectCount();
      List<WrappedKey> keys = hotKeys(hsm, 40);
      List<byte[][]> sealed = useEach(hsm, keys);
      // 40 misses; 10 keys used once more: 10 hits, a quarter of the misses.
      List<WrappedKey> used = keys.subList(30, 40);
      useEach(hsm, used);
      for (int i = 0; i < BOUND; i++) {
        hsm.generateBackingKey();
      }
      int unwrapsBefore = unwraps.unwraps.get();
      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.libraryRecycles()).isEqualTo(1);

      assertThat(unwraps.unwraps.get() - unwrapsBefore)
          .as("40 cached keys x 10 hits / 40 misses")
          .isEqualTo(10);
      assertThat(hsm.cachedBackingKeyCount()).isEqualTo(10);
      assertThat(hsm.visibleObjectCount()).isEqualTo(before + 10);
      long misses = hsm.backingKeyCacheMisses();
      for (int i = 30; i < 40; i++) {
        assertThat(decrypt(hsm, keys.get(i), sealed.get(i))).containsExactly(7, 8);
      }
      assertThat(hsm.backingKeyCacheMisses()).as("the keys used twice kept").isEqualTo(misses);
      hsm.evictCachedBackingKeys();
      assertThat(hsm.visibleObjectCount()).isEqualTo(before);
    }
  }

  @Test
  void aWarmUpThatFailsHalfway_switchesWithWhatItUnwrapped_andLeavesNoObject() {
    FailingUnwraps interceptor = new FailingUnwraps();
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(token.hsmConfig().withLibraryRecycle(BOUND), interceptor)) {
      int before = hsm.visibleObjectCount();
      List<WrappedKey> keys = hotKeys(hsm, HOT);
      List<byte[][]> sealed = useEach(hsm, keys);
      encrypt(hsm, keys.get(0), BOUND);
      interceptor.failFrom = interceptor.unwraps.get() + HOT / 2 + 1;
      assertThat(hsm.isHealthy()).isTrue();
      interceptor.failFrom = Integer.MAX_VALUE;
      assertThat(hsm.libraryRecycles()).isEqualTo(1);

      assertThat(hsm.cachedBackingKeyCount()).isEqualTo(HOT / 2);
      for (int i = 0; i < HOT; i++) {
        assertThat(decrypt(hsm, keys.get(i), sealed.get(i))).containsExactly(7, 8);
      }
      assertThat(hsm.cachedBackingKeyCount()).isEqualTo(HOT);
      hsm.evictCachedBackingKeys();
      assertThat(hsm.visibleObjectCount()).isEqualTo(before);
    }
  }
}
