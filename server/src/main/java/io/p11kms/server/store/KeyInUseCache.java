package io.p11kms.server.store;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Interner;
import java.sql.Connection;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Recent answers of {@link KeyStore#findKeyInUse} and of {@link XksKeys#find} (the exposure an XKS
 * request names), each good only while the database has not changed since it was read. Every
 * request reads its key; on SQLite that one read cost more server CPU than anything but the token
 * (a three-table join: about 35 us).
 *
 * <p>Whether the database changed is tracked as a generation, moved on by every write transaction
 * of this process once it ends, and by any change a pooled connection reports through the
 * database's change counter (SQLite's {@code PRAGMA data_version}: it moves when another
 * connection, of this process or of another one, commits). An answer is kept with the generation
 * read before its query ran and served only while the generation is still that one, so a key
 * disabled, deleted, rotated or given a new policy through this store is never served from here to
 * a read that starts after the change committed.
 *
 * <p>A write of another process (another server on the same file) is seen within {@link
 * #DEFAULT_RECHECK}: asking the change counter takes a pooled connection, a statement and a file
 * lock, a few microseconds on every request, so a read takes its answer from here without asking
 * while the last check, on any connection, is more recent than that ({@link #recent}), and within
 * that bound a read that finds nothing kept queries the key without asking first ({@link
 * #recentGeneration}). The first check after another process's commit moves the generation on,
 * whichever connection makes it: the counter of each connection moves for every commit of the
 * others since that connection's own last check.
 */
final class KeyInUseCache {
  /**
   * Entries kept at most by default, of key reads and of exposures each (about 0.5 KB of heap each,
   * the policy document shared with the other keys that have the same one). Chosen by the frequency
   * of use, so the hot keys stay. The entries live in the old generation, within -Xmx: under a
   * Zipf(1.0) choice over 100,000 keys the 20,000 most read take 87% of the reads, for about 11 MiB
   * of run.sh's 128 MiB heap (docs/configuration.md, "Sizing the caches").
   */
  static final int DEFAULT_MAX_ENTRIES = 20_000;

  /**
   * How long a check of the change counter vouches for the kept answers: a commit of another
   * process is seen at most this long after it. A server answering thousands of requests a second
   * asks once per several of them.
   */
  static final Duration DEFAULT_RECHECK = Duration.ofMillis(2);

  private final AtomicLong generation = new AtomicLong();
  private final Map<Connection, Long> counterSeen = new ConcurrentHashMap<>();
  private final long recheckNanos;

  /**
   * {@link System#nanoTime} of the last check of the change counter: written after the generation
   * it moved, read before it.
   */
  private volatile long checkedAt;

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
    this(maxEntries, DEFAULT_RECHECK);
  }

  /** As above, a check of the change counter vouching for the kept answers for {@code recheck}. */
  KeyInUseCache(int maxEntries, Duration recheck) {
    if (maxEntries < 1) {
      throw new IllegalArgumentException("the key read cache needs room for at least one key");
    }
    recheckNanos = recheck.toNanos();
    checkedAt = System.nanoTime() - recheckNanos;
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
    Long before = counterSeen.get(connection);
    if (before == null || before != counter) {
      counterSeen.put(connection, counter);
      generation.incrementAndGet();
    }
    long current = generation.get();
    checkedAt = System.nanoTime();
    return current;
  }

  /**
   * The generation a read made now belongs to, without asking the database, when the change counter
   * was checked within the recheck bound; else -1 (ask it: {@link #observe}). A read that runs
   * after the last check sees at least every commit that check saw, and a later change moves the
   * generation on, so its answer is never served past a change.
   */
  long recentGeneration() {
    if (System.nanoTime() - checkedAt >= recheckNanos) {
      return -1;
    }
    return generation.get();
  }

  /**
   * The answer kept for the key and version, without asking the database, when the change counter
   * was checked within the recheck bound and this process wrote nothing since; else null (ask it:
   * {@link #observe}, then {@link #get}).
   */
  KeyInUse recent(UUID keyId, UUID versionId) {
    if (System.nanoTime() - checkedAt >= recheckNanos) {
      return null;
    }
    return get(keyId, versionId, generation.get());
  }

  /** As {@link #recent}, for the exposure of {@code externalKeyId}. */
  Optional<XksKeyRecord> recentExposure(String externalKeyId) {
    if (System.nanoTime() - checkedAt >= recheckNanos) {
      return null;
    }
    return exposure(externalKeyId, generation.get());
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
