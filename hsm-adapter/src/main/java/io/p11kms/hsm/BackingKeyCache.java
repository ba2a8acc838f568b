package io.p11kms.hsm;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The bookkeeping of unwrapped backing keys kept as session objects: least recently used first out,
 * at most {@code maxKeys} of them, none older than {@code maxAgeNanos}. It holds handles, not keys;
 * the token holds the keys.
 *
 * <p>Why reference counts: an entry evicted (by count, by age, or because a newer unwrap of the
 * same EKT replaced it) may still be in use by a concurrent request on another session. Its object
 * is destroyed only once the last user has released it: {@link #takeDestroyable()} hands out the
 * handles whose objects can go now.
 *
 * <p>Why admission: while there is room every unwrapped key is cached; once full, a key is cached
 * only on its second miss within a short memory ({@link #admits}). Requests spread over many more
 * keys than fit (100,000 keys, a random one per request) would otherwise evict a cached key on
 * every miss and serialize every unwrap on the cache's session, for a hit rate that stays at {@code
 * maxKeys / keys} anyway; a key not admitted is unwrapped in the caller's own session and destroyed
 * after its request, with no shared lock.
 *
 * <p>{@link #forgetAll()} is for a reconnect: the token has dropped the objects already, and the
 * handles may soon name other objects, so nothing is destroyed and nothing is handed out again.
 *
 * <p>Thread-safe.
 */
final class BackingKeyCache {

  /** One cached object. Read {@link #handle} only between acquire and release. */
  static final class Entry {
    final WrappedKey key;
    final long handle;
    private final long bornNanos;
    private final long generation;
    private int users;
    private boolean evicted;

    private Entry(WrappedKey key, long handle, long bornNanos, long generation) {
      this.key = key;
      this.handle = handle;
      this.bornNanos = bornNanos;
      this.generation = generation;
    }
  }

  private final int maxKeys;
  private final long maxAgeNanos;
  private final LongSupplier nanoTime;
  private final LinkedHashMap<WrappedKey, Entry> entries = new LinkedHashMap<>(64, 0.75f, true);
  private final List<Long> destroyable = new ArrayList<>();
  // The hash codes of keys that missed lately while the cache was full, one per slot: a newer miss
  // overwrites an older one in its slot, so the memory is short and its size fixed.
  private final int[] recentMisses;
  private final boolean[] recentMissSet;
  private long generation;

  BackingKeyCache(int maxKeys, long maxAgeNanos, LongSupplier nanoTime) {
    if (maxKeys < 1 || maxAgeNanos < 1) {
      throw new IllegalArgumentException("cache bounds must be positive");
    }
    this.maxKeys = maxKeys;
    this.maxAgeNanos = maxAgeNanos;
    this.nanoTime = nanoTime;
    int slots = Integer.highestOneBit(Math.max(16, maxKeys) * 2 - 1) * 2;
    this.recentMisses = new int[slots];
    this.recentMissSet = new boolean[slots];
  }

  /**
   * Whether {@code key}, which just missed, should be cached: always while there is room, else only
   * when it missed lately too. A different key with the same hash code may stand in for it: that
   * only caches a key one miss early.
   */
  synchronized boolean admits(WrappedKey key) {
    if (entries.size() < maxKeys) {
      return true;
    }
    int hash = key.hashCode();
    int slot = (hash ^ (hash >>> 16)) & (recentMisses.length - 1);
    if (recentMissSet[slot] && recentMisses[slot] == hash) {
      recentMissSet[slot] = false;
      return true;
    }
    recentMisses[slot] = hash;
    recentMissSet[slot] = true;
    return false;
  }

  /** The entry for {@code key}, now in use by the caller, or null when none is cached and fresh. */
  synchronized Entry acquire(WrappedKey key) {
    Entry entry = entries.get(key);
    if (entry == null) {
      return null;
    }
    if (expired(entry, nanoTime.getAsLong())) {
      entries.remove(key);
      evict(entry);
      return null;
    }
    entry.users++;
    return entry;
  }

  /**
   * Caches the object just unwrapped for {@code key}, in use by the caller. Evicts the least
   * recently used entries beyond the count bound, and an older entry for the same key.
   */
  synchronized Entry add(WrappedKey key, long handle) {
    Entry entry = new Entry(key, handle, nanoTime.getAsLong(), generation);
    entry.users = 1;
    Entry previous = entries.put(key, entry);
    if (previous != null) {
      evict(previous);
    }
    Iterator<Entry> eldest = entries.values().iterator();
    while (entries.size() > maxKeys && eldest.hasNext()) {
      Entry out = eldest.next();
      eldest.remove();
      evict(out);
    }
    return entry;
  }

  /** The caller is done with {@code entry}; an evicted entry's object can go once unused. */
  synchronized void release(Entry entry) {
    entry.users--;
    if (entry.evicted && entry.users == 0 && entry.generation == generation) {
      destroyable.add(entry.handle);
    }
  }

  /** Evicts the entries older than the age bound. */
  synchronized void evictExpired() {
    long now = nanoTime.getAsLong();
    Iterator<Entry> it = entries.values().iterator();
    while (it.hasNext()) {
      Entry entry = it.next();
      if (expired(entry, now)) {
        it.remove();
        evict(entry);
      }
    }
  }

  /** Evicts every entry (their objects are destroyed once unused). */
  synchronized void evictAll() {
    List<Entry> all = new ArrayList<>(entries.values());
    entries.clear();
    all.forEach(this::evict);
  }

  /** The handles of evicted objects that no request uses any more; the caller destroys them. */
  synchronized long[] takeDestroyable() {
    long[] handles = destroyable.stream().mapToLong(Long::longValue).toArray();
    destroyable.clear();
    return handles;
  }

  /** Forgets everything without destroying anything: the token has dropped the objects. */
  synchronized void forgetAll() {
    generation++;
    entries.clear();
    destroyable.clear();
  }

  /** Entries cached now (not counting evicted objects that a request still uses). */
  synchronized int size() {
    return entries.size();
  }

  private void evict(Entry entry) {
    entry.evicted = true;
    if (entry.users == 0 && entry.generation == generation) {
      destroyable.add(entry.handle);
    }
  }

  private boolean expired(Entry entry, long now) {
    return now - entry.bornNanos >= maxAgeNanos;
  }
}
