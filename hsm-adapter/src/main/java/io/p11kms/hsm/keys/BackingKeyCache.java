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
 * <p>{@link #forgetAll()} is for a reconnect: the token has dropped the objects already, and the
 * handles may soon name other objects, so nothing is destroyed and nothing is handed out again.
 * {@link #forgetHandles()} is for a move to a fresh library instance: the same, but the entries
 * stay as placeholders until their keys are unwrapped again there, so that what the policy learned
 * of them (their place in its segments, beside the frequencies it keeps by key) is not lost.
 *
 * <p>Thread-safe. The policy's upkeep (evictions and their bookkeeping) runs on the calling thread,
 * so that an eviction's handle is waiting in {@link #takeDestroyable()} when the call that caused
 * it returns.
 */
final class BackingKeyCache {

  /**
   * One cached object. Read {@link #handle} only between acquire and release. An entry of an
   * earlier generation ({@link #forgetHandles}) names no object: it keeps the key's place in the
   * policy until the key is unwrapped again ({@link #adopt}) or the entry goes.
   */
  static final class Entry {
    final WrappedKey key;
    // Both set again, under this entry's lock, when an entry of an earlier generation is renewed.
    long handle;
    private long generation;
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
      if (entry.evicted || entry.generation != generation) {
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
   * Caches an object unwrapped ahead of use (the refill after a move to a fresh library instance),
   * in use by no request yet. It replaces a placeholder of the key ({@link #forgetHandles}) as a
   * request's miss does: the key keeps the frequency the policy counts for it.
   */
  void adopt(WrappedKey key, long handle) {
    entries.put(key, new Entry(key, handle, generation));
  }

  /** The entry cached for {@code key} now, of any generation; not counted as a use. */
  Entry peek(WrappedKey key) {
    return entries.policy().getIfPresentQuietly(key);
  }

  /**
   * Caches an object unwrapped on the standby before the move ({@link BackingKeyWarmup}), in use by
   * no request yet: {@code placeholder}, the entry {@link #peek} found for {@code key} before the
   * move and now of an earlier generation, takes the handle in place, without a lookup or a write
   * to the policy (this runs while every request waits); if it went meanwhile, a new entry is
   * cached. Its age still counts from the placeholder's write, so it goes earlier, never later,
   * than the object's own age says.
   */
  void renew(Entry placeholder, WrappedKey key, long handle) {
    if (placeholder != null) {
      synchronized (placeholder) {
        if (!placeholder.evicted
            && placeholder.generation != generation
            && placeholder.users == 0) {
          placeholder.handle = handle;
          placeholder.generation = generation;
          return;
        }
      }
    }
    adopt(key, handle);
  }

  /** Whether {@code key} is cached, fresh and of this generation; not counted as a use. */
  boolean contains(WrappedKey key) {
    Entry entry = entries.policy().getIfPresentQuietly(key);
    if (entry == null) {
      return false;
    }
    synchronized (entry) {
      return !entry.evicted && entry.generation == generation;
    }
  }

  /**
   * The keys cached now, those the policy would keep longest first (the most used): at most {@code
   * limit}. Entries of an earlier generation count.
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
    forgetHandles();
    entries.invalidateAll();
    entries.cleanUp();
  }

  /**
   * Forgets every handle without destroying anything, keeping the entries as a new generation's
   * placeholders: the connection moved to a fresh library instance, which the old handles do not
   * name. Each entry misses until its key is unwrapped again ({@link #adopt}, or a request's miss
   * and {@link #add}); meanwhile it holds the key's place in the policy (recency, and the protected
   * or probation segment) beside the frequency the policy keeps by key. Runs while no request is in
   * flight.
   */
  void forgetHandles() {
    synchronized (destroyable) {
      generation++;
      destroyable.clear();
      destroyableCount = 0;
    }
  }

  /**
   * Removes the entries of an earlier generation still cached (keys not unwrapped again since
   * {@link #forgetHandles}): they name no object, and a full cache would weigh newcomers against
   * them. Destroys nothing.
   *
   * @return how many were removed
   */
  int dropStale() {
    int dropped = 0;
    for (Entry entry : List.copyOf(entries.asMap().values())) {
      boolean stale;
      synchronized (entry) {
        stale = entry.generation != generation;
      }
      if (stale && entries.asMap().remove(entry.key, entry)) {
        dropped++;
      }
    }
    return dropped;
  }

  /**
   * Entries cached now of this generation (not counting evicted objects that a request still uses,
   * nor placeholders: {@link #forgetHandles}).
   */
  int size() {
    entries.cleanUp();
    long current = generation;
    int count = 0;
    for (Entry entry : entries.asMap().values()) {
      synchronized (entry) {
        if (entry.generation == current) {
          count++;
        }
      }
    }
    return count;
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
