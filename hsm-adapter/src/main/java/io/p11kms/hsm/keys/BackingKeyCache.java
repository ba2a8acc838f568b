package io.p11kms.hsm.keys;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.p11kms.hsm.WrappedKey;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The bookkeeping of unwrapped backing keys kept as session objects: at most {@code maxKeys} of
 * them, none older than {@code maxAgeNanos}, and which ones to keep chosen by how often they are
 * used (Caffeine's W-TinyLFU policy). It holds handles, not keys; the token holds the keys.
 *
 * <p>Why by frequency: callers do not pick keys uniformly, a few hot keys take most requests and a
 * long tail is used now and then. Under plain least-recently-used, each tail key that misses evicts
 * a hot one; here a key that missed enters a small window and stays only if it is used more often
 * than the entry it would replace. While there is room every key is kept.
 *
 * <p>Why reference counts: an entry evicted (by count, by age, or because a newer unwrap of the
 * same EKT replaced it) may still be in use by a concurrent request on another session. Its object
 * is destroyed only once the last user has released it: {@link #takeDestroyable()} hands out the
 * handles whose objects can go now.
 *
 * <p>{@link #forgetAll()} is for a reconnect or a library switch: the token has dropped the objects
 * already, and the handles may soon name other objects, so nothing is destroyed and nothing is
 * handed out again.
 *
 * <p>Thread-safe. The policy's upkeep (evictions and their bookkeeping) runs on the calling thread,
 * so that an eviction's handle is waiting in {@link #takeDestroyable()} when the call that caused
 * it returns.
 */
final class BackingKeyCache {

  /** One cached object. Read {@link #handle} only between acquire and release. */
  static final class Entry {
    final WrappedKey key;
    final long handle;
    private final long generation;
    private int users;
    private boolean evicted;

    private Entry(WrappedKey key, long handle, long generation) {
      this.key = key;
      this.handle = handle;
      this.generation = generation;
    }
  }

  private static final long[] NONE = new long[0];

  private final Cache<WrappedKey, Entry> entries;
  private final List<Long> destroyable = new ArrayList<>();
  // destroyable's size, read without its lock: most releases find nothing to destroy.
  private volatile int destroyableCount;
  private volatile long generation;

  BackingKeyCache(int maxKeys, long maxAgeNanos, LongSupplier nanoTime) {
    if (maxKeys < 1 || maxAgeNanos < 1) {
      throw new IllegalArgumentException("cache bounds must be positive");
    }
    this.entries =
        Caffeine.newBuilder()
            .maximumSize(maxKeys)
            .expireAfterWrite(maxAgeNanos, TimeUnit.NANOSECONDS)
            .ticker(nanoTime::getAsLong)
            .executor(Runnable::run)
            .removalListener((WrappedKey key, Entry entry, RemovalCause cause) -> evict(entry))
            .build();
  }

  /** The entry for {@code key}, now in use by the caller, or null when none is cached and fresh. */
  Entry acquire(WrappedKey key) {
    // An entry past its age is not returned: the unwrap that follows replaces and evicts it.
    Entry entry = entries.getIfPresent(key);
    if (entry == null) {
      return null;
    }
    synchronized (entry) {
      if (entry.evicted) {
        return null;
      }
      entry.users++;
      return entry;
    }
  }

  /**
   * Caches the object just unwrapped for {@code key}, in use by the caller. The policy may evict
   * other entries for it, an older entry for the same key, or this one (a key used less often than
   * those it would replace): each object is destroyed once its last user releases it.
   */
  Entry add(WrappedKey key, long handle) {
    Entry entry = new Entry(key, handle, generation);
    entry.users = 1;
    entries.put(key, entry);
    return entry;
  }

  /**
   * Caches an object unwrapped ahead of use ({@link BackingKeyWarmup}), in use by no request yet.
   */
  void adopt(WrappedKey key, long handle) {
    entries.put(key, new Entry(key, handle, generation));
  }

  /** Whether {@code key} is cached and fresh; not counted as a use. */
  boolean contains(WrappedKey key) {
    return entries.asMap().containsKey(key);
  }

  /**
   * The keys cached now, those the policy would keep longest first (the most used): at most {@code
   * limit}.
   */
  List<WrappedKey> hottest(int limit) {
    return new ArrayList<>(entries.policy().eviction().orElseThrow().hottest(limit).keySet());
  }

  /** The caller is done with {@code entry}; an evicted entry's object can go once unused. */
  void release(Entry entry) {
    synchronized (entry) {
      entry.users--;
      destroyIfUnused(entry);
    }
  }

  /** Evicts the entries older than the age bound. */
  void evictExpired() {
    entries.cleanUp();
  }

  /** Evicts every entry (their objects are destroyed once unused). */
  void evictAll() {
    entries.invalidateAll();
    entries.cleanUp();
  }

  /** The handles of evicted objects that no request uses any more; the caller destroys them. */
  long[] takeDestroyable() {
    if (destroyableCount == 0) {
      return NONE;
    }
    synchronized (destroyable) {
      long[] handles = destroyable.stream().mapToLong(Long::longValue).toArray();
      destroyable.clear();
      destroyableCount = 0;
      return handles;
    }
  }

  /**
   * Forgets everything without destroying anything: the token has dropped the objects. What the
   * policy learned of the keys' frequencies stays.
   */
  void forgetAll() {
    synchronized (destroyable) {
      generation++;
      destroyable.clear();
      destroyableCount = 0;
    }
    entries.invalidateAll();
    entries.cleanUp();
  }

  /** Entries cached now (not counting evicted objects that a request still uses). */
  int size() {
    entries.cleanUp();
    return (int) entries.estimatedSize();
  }

  private void evict(Entry entry) {
    synchronized (entry) {
      entry.evicted = true;
      destroyIfUnused(entry);
    }
  }

  private void destroyIfUnused(Entry entry) {
    if (entry.evicted && entry.users == 0) {
      synchronized (destroyable) {
        if (entry.generation == generation) {
          destroyable.add(entry.handle);
          destroyableCount = destroyable.size();
        }
      }
    }
  }
}
