package io.p11kms.hsm.keys;

import io.p11kms.hsm.WrapMechanism;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.hsm.domain.DomainKeyRole;
import io.p11kms.hsm.domain.DomainKeys;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/**
 * The backing keys used most, unwrapped ahead of time in a standby instance of the library, so that
 * the cache does not start empty when the connection moves onto it.
 *
 * <p>Why: every move to a fresh instance of the library ({@code LibraryRecycler}) leaves the cached
 * objects behind; started empty, the cache unwraps each hot key again on its first call in the new
 * instance, and under a realistic key choice an instance lives only a few minutes at full load, so
 * its cache spends much of its life cold. Unwrapping the hottest keys on the standby while calls go
 * on in the old instance moves that cost off the request path.
 *
 * <p>Bounded in count and in time: the warm-up runs on the thread that recycles, between the
 * standby's login and the switch, and stops at the first of its key count, its time budget, or a
 * token error (keeping what it unwrapped). Its objects do not count against the new instance's
 * recycle bound: they stand for the cached objects that the finalize of the instance left frees
 * whole, without remains. Until the switch both instances hold the warmed keys, so the token's
 * memory for cached keys is twice the warmed count for that while.
 */
public final class BackingKeyWarmup {
  private static final Logger LOG = LoggerFactory.getLogger(BackingKeyWarmup.class);

  /**
   * The keys unwrapped in one session of the standby, for the cache to take over when the
   * connection moves there ({@link BackingKeys#moveTo}); closing the session destroys them.
   */
  public static final class Warmed {
    private final Session session;
    private final List<WrappedKey> keys;
    private final long[] handles;
    private final BackingKeyCache.Entry[] entries;

    private Warmed(
        Session session, List<WrappedKey> keys, long[] handles, BackingKeyCache.Entry[] entries) {
      this.session = session;
      this.keys = keys;
      this.handles = handles;
      this.entries = entries;
    }

    /** Nothing warmed (no cache, no key in it, or the session did not open). */
    public static Warmed none() {
      return new Warmed(null, List.of(), new long[0], new BackingKeyCache.Entry[0]);
    }

    /** The session the warmed keys live in; null when none was opened. */
    public Session session() {
      return session;
    }

    /** How many keys were unwrapped (objects made in the standby). */
    public int count() {
      return keys.size();
    }

    /** The key unwrapped {@code i}-th. */
    WrappedKey key(int i) {
      return keys.get(i);
    }

    /** The handle of the object unwrapped {@code i}-th, in {@link #session()}. */
    long handle(int i) {
      return handles[i];
    }

    /** The cache's entry for the key unwrapped {@code i}-th, when it was unwrapped; or null. */
    BackingKeyCache.Entry entry(int i) {
      return entries[i];
    }
  }

  private BackingKeyWarmup() {}

  /**
   * Unwraps the first {@code limit} of {@code hottest} (the keys {@code cache} holds, most used
   * first: {@link BackingKeys#hottest}) in {@code session} (a logged-in session of the standby
   * instance, given over to the result), under that instance's domain keys.
   *
   * @param limit at most this many keys
   * @param budgetNanos stops starting unwraps once this much time has passed
   */
  public static Warmed warm(
      BackingKeys cache,
      List<WrappedKey> hottest,
      Session session,
      DomainKeys standbyKeys,
      int limit,
      long budgetNanos) {
    List<WrappedKey> keys = new ArrayList<>();
    long[] handles = new long[Math.max(0, Math.min(limit, hottest.size()))];
    BackingKeyCache.Entry[] entries = new BackingKeyCache.Entry[handles.length];
    long start = System.nanoTime();
    for (WrappedKey key : hottest.subList(0, handles.length)) {
      if (System.nanoTime() - start > budgetNanos) {
        break;
      }
      if (!cacheable(key)) {
        continue;
      }
      try {
        int generation = key.domainKeyGeneration();
        long domainKey = standbyKeys.handle(session, generation);
        BackingKeyUse use = standbyKeys.backingKeyUse(session, generation);
        handles[keys.size()] = cache.unwrap(session, domainKey, use, key);
        entries[keys.size()] = cache.cachedEntry(key);
        keys.add(key);
      } catch (PKCS11Exception | RuntimeException e) {
        LOG.debug("warm-up of the standby stopped after {} keys: {}", keys.size(), e.toString());
        break;
      }
    }
    return new Warmed(session, List.copyOf(keys), handles, entries);
  }

  /** Whether {@code key} is one the cache holds: a symmetric HBK wrapped with AES key wrap. */
  public static boolean cacheable(WrappedKey key) {
    return key.role() == DomainKeyRole.SYMMETRIC
        && key.wrapMechanism() == WrapMechanism.AES_KEY_WRAP;
  }
}
