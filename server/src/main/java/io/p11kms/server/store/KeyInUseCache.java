package io.p11kms.server.store;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Interner;
import java.sql.Connection;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Recent answers of {@link KeyStore#findKeyInUse} and of {@link XksKeys#find} (the exposure an XKS
 * request names), each good only while the database has not changed since it was read. Every
 * request reads its key; on SQLite that one read cost more server CPU than anything but the token
 * (a three-table join: about 35 us, where asking whether the database changed costs about 1 us).
 *
 * <p>Whether the database changed is tracked as a generation, moved on by every write transaction
 * of this process once it ends, and by any change a pooled connection reports through the
 * database's change counter (SQLite's {@code PRAGMA data_version}: it moves when another
 * connection, of this process or of another one, commits). An answer is kept with the generation
 * read before its query ran and served only while the generation is still that one, so a key
 * disabled, deleted, rotated or given a new policy, by this server or another on the same file, is
 * never served from here to a request that starts after the change committed.
 */
final class KeyInUseCache {
  /**
   * Entries kept at most by default, of key reads and of exposures each (about 0.5 KB of heap each,
   * the policy document shared with the other keys that have the same one). Chosen by the frequency
   * of use, so the hot keys stay; a larger cache keeps more of a large store's tail but took the
   * server at 100,000 keys past 512 MiB resident (docs/performance.md).
   */
  static final int DEFAULT_MAX_ENTRIES = 10_000;

  private final AtomicLong generation = new AtomicLong();
  private final Map<Connection, Long> counterSeen = new ConcurrentHashMap<>();
  private final Cache<Slot, Entry> entries;
  private final Cache<String, Exposure> exposures;

  /**
   * Policy documents of the entries, one copy each: the keys of one caller mostly share a document
   * (the default policy names its creator and the administrators), and a copy per entry made up
   * most of an entry's size. Weak: a document no entry holds goes.
   */
  private final Interner<String> policies = Interner.newWeakInterner();

  /**
   * Keeps at most {@code maxEntries} key reads and as many exposures. Which ones is chosen by how
   * often they are read (Caffeine's W-TinyLFU policy): callers use a few keys often and many now
   * and then, and a key read once should not push out one read on every request.
   */
  KeyInUseCache(int maxEntries) {
    if (maxEntries < 1) {
      throw new IllegalArgumentException("the key read cache needs room for at least one key");
    }
    entries = Caffeine.newBuilder().maximumSize(maxEntries).executor(Runnable::run).build();
    exposures = Caffeine.newBuilder().maximumSize(maxEntries).executor(Runnable::run).build();
  }

  /** A key and one of its versions; a null version is the latest. */
  private record Slot(UUID keyId, UUID versionId) {}

  private record Entry(long generation, KeyInUse value) {}

  private record Exposure(long generation, Optional<XksKeyRecord> value) {}

  /**
   * Takes what {@code connection} reports of the change counter just now, and returns the
   * generation a read made next on that connection belongs to. A counter that moved since that
   * connection last reported it, or a connection never seen, moves the generation on.
   */
  long observe(Connection connection, long counter) {
    Long before = counterSeen.put(connection, counter);
    if (before == null || before != counter) {
      generation.incrementAndGet();
    }
    return generation.get();
  }

  /** The answer read in {@code current}, the generation {@link #observe} just returned; or null. */
  KeyInUse get(UUID keyId, UUID versionId, long current) {
    Entry e = entries.getIfPresent(new Slot(keyId, versionId));
    return e != null && e.generation() == current ? e.value() : null;
  }

  /** Keeps an answer read on a connection after {@link #observe} returned {@code readIn}. */
  void put(UUID keyId, UUID versionId, long readIn, KeyInUse value) {
    KeyInUse kept =
        value.policy().isEmpty()
            ? value
            : new KeyInUse(value.key(), value.version(), value.policy().map(policies::intern));
    entries.put(new Slot(keyId, versionId), new Entry(readIn, kept));
  }

  /** The exposure of {@code externalKeyId} read in {@code current}, or null when none is kept. */
  Optional<XksKeyRecord> exposure(String externalKeyId, long current) {
    Exposure e = exposures.getIfPresent(externalKeyId);
    return e != null && e.generation() == current ? e.value() : null;
  }

  /** Keeps the exposure (or its absence) read after {@link #observe} returned {@code readIn}. */
  void putExposure(String externalKeyId, long readIn, Optional<XksKeyRecord> value) {
    exposures.put(externalKeyId, new Exposure(readIn, value));
  }

  /** After a write transaction of this process ended (committed or not). */
  void changed() {
    generation.incrementAndGet();
  }

  /** A connection closed: its counter means nothing any more. */
  void forget(Connection connection) {
    counterSeen.remove(connection);
  }

  int size() {
    entries.cleanUp();
    return (int) entries.estimatedSize();
  }

  int exposures() {
    exposures.cleanUp();
    return (int) exposures.estimatedSize();
  }
}
