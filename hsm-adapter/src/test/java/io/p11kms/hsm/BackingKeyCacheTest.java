package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The cache's bookkeeping: LRU by count, age, reference counts, and forgetting on reconnect. */
class BackingKeyCacheTest {
  private final AtomicLong now = new AtomicLong(1_000);
  private final BackingKeyCache cache = new BackingKeyCache(2, 100, now::get);

  private static WrappedKey key(int n) {
    byte[] ekt = new byte[40];
    ekt[0] = (byte) n;
    return new WrappedKey(1, WrapMechanism.AES_KEY_WRAP, ekt);
  }

  @Test
  void add_beyondTheCount_evictsTheLeastRecentlyUsedOnceReleased() {
    cache.release(cache.add(key(1), 11));
    cache.release(cache.add(key(2), 12));
    cache.release(cache.acquire(key(1)));
    cache.release(cache.add(key(3), 13));

    assertThat(cache.acquire(key(2))).isNull();
    assertThat(cache.size()).isEqualTo(2);
    assertThat(cache.takeDestroyable()).containsExactly(12);
    assertThat(cache.takeDestroyable()).isEmpty();
  }

  @Test
  void admits_everyKeyWhileThereIsRoom_thenOnlyOnItsSecondMissInARow() {
    assertThat(cache.admits(key(1))).isTrue();
    cache.release(cache.add(key(1), 11));
    assertThat(cache.admits(key(2))).isTrue();
    cache.release(cache.add(key(2), 12));

    assertThat(cache.admits(key(3))).isFalse();
    assertThat(cache.admits(key(3))).isTrue();
    // Admission is spent: a third miss starts over.
    assertThat(cache.admits(key(3))).isFalse();
    assertThat(cache.size()).isEqualTo(2);
    assertThat(cache.takeDestroyable()).isEmpty();
  }

  @Test
  void acquire_pastTheAge_missesAndTheObjectIsDestroyed() {
    cache.release(cache.add(key(1), 11));
    now.addAndGet(99);
    BackingKeyCache.Entry entry = cache.acquire(key(1));
    assertThat(entry).isNotNull();
    cache.release(entry);

    now.addAndGet(1);
    assertThat(cache.acquire(key(1))).isNull();
    assertThat(cache.takeDestroyable()).containsExactly(11);
  }

  @Test
  void evicted_whileInUse_isDestroyedOnlyAfterTheLastRelease() {
    BackingKeyCache.Entry first = cache.add(key(1), 11);
    BackingKeyCache.Entry second = cache.acquire(key(1));
    cache.evictAll();
    assertThat(cache.takeDestroyable()).isEmpty();

    cache.release(first);
    assertThat(cache.takeDestroyable()).isEmpty();
    cache.release(second);
    assertThat(cache.takeDestroyable()).containsExactly(11);
  }

  @Test
  void evictExpired_evictsOnlyTheOld() {
    cache.release(cache.add(key(1), 11));
    now.addAndGet(60);
    cache.release(cache.add(key(2), 12));
    now.addAndGet(50);
    cache.evictExpired();
    assertThat(cache.takeDestroyable()).containsExactly(11);
    assertThat(cache.size()).isEqualTo(1);
  }

  @Test
  void add_sameKeyAgain_replacesAndDestroysTheOlderObject() {
    cache.release(cache.add(key(1), 11));
    cache.release(cache.add(key(1), 21));
    assertThat(cache.takeDestroyable()).containsExactly(11);
    BackingKeyCache.Entry entry = cache.acquire(key(1));
    assertThat(entry.handle).isEqualTo(21);
  }

  @Test
  void forgetAll_destroysNothingNowOrLater() {
    cache.release(cache.add(key(1), 11));
    BackingKeyCache.Entry inUse = cache.add(key(2), 12);
    cache.evictAll();
    cache.forgetAll();
    cache.release(inUse);

    assertThat(cache.takeDestroyable()).isEmpty();
    assertThat(cache.size()).isZero();
    assertThat(cache.acquire(key(1))).isNull();
  }
}
