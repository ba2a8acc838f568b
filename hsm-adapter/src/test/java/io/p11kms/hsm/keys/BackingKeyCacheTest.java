package io.p11kms.hsm.keys;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.WrapMechanism;
import io.p11kms.hsm.WrappedKey;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The cache's bookkeeping: the count bound kept by frequency, age, reference counts, forgetting on
 * reconnect, and placeholders across a move to a fresh library instance.
 */
class BackingKeyCacheTest {
  private final AtomicLong now = new AtomicLong(1_000);
  private final BackingKeyCache cache = new BackingKeyCache(2, 100, now::get);

  private static WrappedKey key(int n) {
    byte[] ekt = new byte[40];
    ekt[0] = (byte) n;
    ekt[1] = (byte) (n >>> 8);
    return new WrappedKey(1, WrapMechanism.AES_KEY_WRAP, ekt);
  }

  /** What a request does: the cached object, or a fresh "unwrap" offered to the cache. */
  private static void use(BackingKeyCache cache, int n, Set<Long> handles) {
    BackingKeyCache.Entry entry = cache.acquire(key(n));
    if (entry == null) {
      long handle = 1_000_000L * (handles.size() + 1) + n;
      handles.add(handle);
      entry = cache.add(key(n), handle);
    }
    cache.release(entry);
  }

  @Test
  void whileThereIsRoom_everyKeyIsKept() {
    BackingKeyCache roomy = new BackingKeyCache(100, 1_000, now::get);
    Set<Long> handles = new HashSet<>();
    for (int i = 0; i < 100; i++) {
      use(roomy, i, handles);
    }
    assertThat(roomy.size()).isEqualTo(100);
    assertThat(roomy.takeDestroyable()).isEmpty();
    for (int i = 0; i < 100; i++) {
      BackingKeyCache.Entry entry = roomy.acquire(key(i));
      assertThat(entry).as("key %d", i).isNotNull();
      roomy.release(entry);
    }
  }

  @Test
  void keysUsedOftenStay_whileKeysUsedNowAndThenComeAndGo() {
    // Hot keys used five times each, then a tail of keys each used twice: under least recently
    // used (or admission on a second miss) the tail would push the hot keys out.
    BackingKeyCache small = new BackingKeyCache(20, 1_000_000, now::get);
    Set<Long> handles = new HashSet<>();
    for (int round = 0; round < 5; round++) {
      for (int hot = 0; hot < 10; hot++) {
        use(small, hot, handles);
      }
    }
    for (int tail = 100; tail < 300; tail++) {
      use(small, tail, handles);
      use(small, tail, handles);
    }

    for (int hot = 0; hot < 10; hot++) {
      BackingKeyCache.Entry entry = small.acquire(key(hot));
      assertThat(entry).as("hot key %d", hot).isNotNull();
      small.release(entry);
    }
    assertThat(small.size()).isLessThanOrEqualTo(20);
    // Every object made and not cached any more is handed out to be destroyed, once.
    long[] destroyable = small.takeDestroyable();
    assertThat(destroyable).doesNotHaveDuplicates();
    assertThat(destroyable.length + small.size()).isEqualTo(handles.size());
  }

  @Test
  void beyondTheCount_anEvictedObjectIsHandedOutOnce() {
    cache.release(cache.add(key(1), 11));
    cache.release(cache.add(key(2), 12));
    cache.release(cache.add(key(3), 13));

    assertThat(cache.size()).isEqualTo(2);
    long[] destroyable = cache.takeDestroyable();
    assertThat(destroyable).hasSize(1);
    assertThat(cache.acquire(keyOfHandle(destroyable[0]))).isNull();
    assertThat(cache.takeDestroyable()).isEmpty();
  }

  private static WrappedKey keyOfHandle(long handle) {
    return key((int) (handle - 10));
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
    cache.evictExpired();
    assertThat(cache.takeDestroyable()).containsExactly(11);
  }

  @Test
  void acquire_pastTheAge_theNextUnwrapReplacesIt() {
    cache.release(cache.add(key(1), 11));
    now.addAndGet(100);
    assertThat(cache.acquire(key(1))).isNull();
    cache.release(cache.add(key(1), 21));

    assertThat(cache.takeDestroyable()).containsExactly(11);
    BackingKeyCache.Entry entry = cache.acquire(key(1));
    assertThat(entry.handle).isEqualTo(21);
  }

  @Test
  void evicted_whileInUse_isDestroyedOnlyAfterTheLastRelease() {
    BackingKeyCache.Entry first = cache.add(key(1), 11);
    BackingKeyCache.Entry second = cache.acquire(key(1));
    cache.evictAll();
    assertThat(cache.takeDestroyable()).isEmpty();
    assertThat(cache.acquire(key(1))).isNull();

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

  @Test
  void forgetAll_thenNewObjects_areDestroyedAsUsual() {
    cache.release(cache.add(key(1), 11));
    cache.forgetAll();
    cache.release(cache.add(key(1), 21));
    cache.evictAll();
    assertThat(cache.takeDestroyable()).containsExactly(21);
  }

  @Test
  void forgetHandles_keepsEntriesAsPlaceholders_thatMissAndDestroyNothing() {
    cache.release(cache.add(key(1), 11));
    cache.release(cache.add(key(2), 12));
    cache.forgetHandles();

    assertThat(cache.acquire(key(1))).isNull();
    assertThat(cache.contains(key(1))).isFalse();
    assertThat(cache.size()).as("placeholders are not counted").isZero();
    assertThat(cache.hottest(2)).containsExactlyInAnyOrder(key(1), key(2));
    // A request's miss replaces the placeholder: the old handle is not destroyed.
    cache.release(cache.add(key(1), 21));
    cache.evictAll();
    assertThat(cache.takeDestroyable()).containsExactly(21);
  }

  @Test
  void renew_setsAPlaceholdersHandleInPlace_andItsNewObjectIsDestroyedOnEviction() {
    cache.release(cache.add(key(1), 11));
    BackingKeyCache.Entry placeholder = cache.peek(key(1));
    cache.forgetHandles();
    cache.renew(placeholder, key(1), 21);

    assertThat(cache.contains(key(1))).isTrue();
    assertThat(cache.size()).isEqualTo(1);
    BackingKeyCache.Entry entry = cache.acquire(key(1));
    assertThat(entry.handle).isEqualTo(21);
    cache.release(entry);
    assertThat(cache.takeDestroyable()).isEmpty();
    cache.evictAll();
    assertThat(cache.takeDestroyable()).containsExactly(21);
  }

  @Test
  void adoptOrRenew_ofAKeyCachedInThisGeneration_replacesAndDestroysTheOlderObject() {
    BackingKeyCache.Entry current = cache.add(key(1), 11);
    cache.release(current);
    cache.renew(current, key(1), 21);
    cache.adopt(key(1), 31);
    assertThat(cache.takeDestroyable()).containsExactly(11, 21);
  }

  @Test
  void adopt_replacesAPlaceholder_andDestroysNothingOfTheOldGeneration() {
    cache.release(cache.add(key(1), 11));
    cache.forgetHandles();
    cache.adopt(key(1), 21);
    assertThat(cache.takeDestroyable()).isEmpty();
    BackingKeyCache.Entry entry = cache.acquire(key(1));
    assertThat(entry.handle).isEqualTo(21);
    cache.release(entry);
  }

  @Test
  void renew_ofAPlaceholderThatWentMeanwhile_cachesANewEntry() {
    cache.release(cache.add(key(1), 11));
    BackingKeyCache.Entry placeholder = cache.peek(key(1));
    cache.evictAll();
    assertThat(cache.takeDestroyable()).containsExactly(11);
    cache.forgetHandles();
    cache.renew(placeholder, key(1), 21);

    BackingKeyCache.Entry entry = cache.acquire(key(1));
    assertThat(entry.handle).isEqualTo(21);
    cache.release(entry);
    cache.evictAll();
    assertThat(cache.takeDestroyable()).containsExactly(21);
  }

  @Test
  void dropStale_removesOnlyPlaceholders_andDestroysNothing() {
    cache.release(cache.add(key(1), 11));
    cache.release(cache.add(key(2), 12));
    cache.forgetHandles();
    cache.adopt(key(2), 22);

    assertThat(cache.dropStale()).isEqualTo(1);
    assertThat(cache.takeDestroyable()).isEmpty();
    assertThat(cache.hottest(2)).containsExactly(key(2));
    cache.evictAll();
    assertThat(cache.takeDestroyable()).containsExactly(22);
  }

  @Test
  void underConcurrentUse_everyObjectIsDestroyedExactlyOnce_andNoneInUse() throws Exception {
    BackingKeyCache shared = new BackingKeyCache(16, 1_000_000, now::get);
    AtomicLong nextHandle = new AtomicLong();
    Set<Long> made = java.util.concurrent.ConcurrentHashMap.newKeySet();
    Set<Long> inUse = java.util.concurrent.ConcurrentHashMap.newKeySet();
    List<Long> destroyed = java.util.Collections.synchronizedList(new ArrayList<>());
    java.util.concurrent.atomic.AtomicReference<String> wrong =
        new java.util.concurrent.atomic.AtomicReference<>();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      Thread thread =
          new Thread(
              () -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                for (int i = 0; i < 20_000; i++) {
                  // A skewed choice over 64 keys: some stay, some come and go.
                  int n = (int) Math.min(63, Math.abs(random.nextGaussian()) * 12);
                  BackingKeyCache.Entry entry = shared.acquire(key(n));
                  if (entry == null) {
                    long handle = nextHandle.incrementAndGet();
                    made.add(handle);
                    entry = shared.add(key(n), handle);
                  }
                  inUse.add(entry.handle);
                  for (long handle : shared.takeDestroyable()) {
                    if (inUse.contains(handle)) {
                      wrong.compareAndSet(null, "handed out while in use: " + handle);
                    }
                    destroyed.add(handle);
                  }
                  inUse.remove(entry.handle);
                  shared.release(entry);
                }
              });
      thread.start();
      threads.add(thread);
    }
    for (Thread thread : threads) {
      thread.join();
    }
    shared.evictAll();
    for (long handle : shared.takeDestroyable()) {
      destroyed.add(handle);
    }

    assertThat(wrong.get()).isNull();
    assertThat(destroyed).doesNotHaveDuplicates();
    assertThat(new HashSet<>(destroyed)).isEqualTo(made);
  }
}
