package io.p11kms.hsm.session;

import io.p11kms.hsm.HsmConfig;
import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.hsm.domain.DomainKeys;
import io.p11kms.hsm.keys.BackingKeyUse;
import io.p11kms.hsm.keys.BackingKeyWarmup;
import io.p11kms.hsm.keys.BackingKeys;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11Module;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.Token;

/**
 * Frees what the library keeps of destroyed objects when enough were made since the last time
 * ({@link LibraryRecycling}), by switching the connection to a standby instance of the library
 * ({@link StandbyLibrary}): logs in on it and finds the domain keys there while calls go on; then,
 * between two calls, moves the connection onto it; then finalizes the instance it left. Calls wait
 * only for the move (microseconds). Before the move, the most used cached backing keys are
 * unwrapped on the standby ({@link BackingKeyWarmup}) and the cache takes them over; the objects it
 * held in the instance left go with that instance, and once that is finalized the rest of the keys
 * the cache held are unwrapped again in the new one: as many of the most used as the cache's hits
 * per miss say are worth it ({@link CacheCarryOver}). The cache stays the same one throughout, its
 * entries placeholders until their keys are unwrapped again ({@link BackingKeys#moveTo}), so that
 * its policy keeps what it learned of the keys; the placeholders left after the refill are dropped.
 * When no standby can be loaded, the library is recycled in place instead.
 */
final class LibraryRecycler {
  private static final Logger LOG = LoggerFactory.getLogger(TokenConnection.class);
  // Calls in flight take well under a millisecond; one still running after this is likely hung.
  private static final long RECYCLE_WAIT_MILLIS = 100;
  // The warm-up of the standby runs on the recycling thread (the health probe's): at most this.
  static final long WARM_BUDGET_MILLIS = 10_000;
  // The standby is warmed with at most the cache's size divided by this (an eighth).
  static final int WARM_SHARE = 8;
  // Keys unwrapped again per call after a move: each call holds a pooled session that long.
  private static final int REFILL_BATCH = 32;

  private final TokenConnection connection;
  private final HsmConfig config;
  private final Calls calls;
  private final StandbyLibrary standby;
  private final LibraryRecycling recycling;
  private final ReentrantReadWriteLock lock;
  private final AtomicBoolean closed;
  // Held by a recycle and by close, never by a call: they must not run at once.
  private final Object gate;
  private final CacheCarryOver carryOver = new CacheCarryOver();
  private boolean standbyUnavailable;

  LibraryRecycler(
      TokenConnection connection,
      HsmConfig config,
      Calls calls,
      StandbyLibrary standby,
      LibraryRecycling recycling,
      ReentrantReadWriteLock lock,
      AtomicBoolean closed,
      Object gate) {
    this.connection = connection;
    this.config = config;
    this.calls = calls;
    this.standby = standby;
    this.recycling = recycling;
    this.lock = lock;
    this.closed = closed;
    this.gate = gate;
  }

  LibraryRecycling recycling() {
    return recycling;
  }

  /**
   * Recycles the library if enough objects were made since the last time.
   *
   * @return whether it was done; not when the calls in flight did not end in time (a hung call), or
   *     when the standby failed to open (then the next try is a bound later)
   */
  boolean recycleIfDue() {
    if (closed.get() || !recycling.due(calls.objectsMade())) {
      return false;
    }
    synchronized (gate) {
      if (closed.get() || !recycling.due(calls.objectsMade())) {
        return false;
      }
      return standbyUnavailable ? recycleInPlace() : switchToStandby();
    }
  }

  /** A standby instance, logged in, its domain keys found; not yet in use. */
  record Prepared(PKCS11Module module, Token token, Session session, DomainKeys keys) {}

  private boolean switchToStandby() {
    long made = calls.objectsMade();
    long start = System.nanoTime();
    Prepared next;
    try {
      next = openStandby();
    } catch (IOException e) {
      if (!standby.onShared()) {
        // On the first copy, the shared instance out of the rotation, and a second copy will not
        // load (it did once): the copy in use keeps its shells; tried again a bound later.
        recycling.postpone(made);
        LOG.warn(
            "token {}: no second copy of the library ({}); not recycled",
            config.tokenLabel(),
            e.getMessage());
        return false;
      }
      LOG.warn(
          "token {}: no standby instance of the PKCS#11 library ({}); recycling it in place",
          config.tokenLabel(),
          e.getMessage());
      standbyUnavailable = true;
      return recycleInPlace();
    } catch (PKCS11Exception | HsmException e) {
      recycling.postpone(made);
      LOG.warn(
          "token {}: standby instance of the library failed to open: {}",
          config.tokenLabel(),
          reason(e));
      return false;
    }
    long warmStart = System.nanoTime();
    // The keys the cache holds now, most used first, as many as were worth their unwrap in the
    // instance left (CacheCarryOver): some unwrapped before the move, the rest after.
    List<WrappedKey> cached = connection.backingKeys().hottest(config.cacheMaxKeys());
    List<WrappedKey> hot =
        cached.subList(0, carryOver.keysForThisRecycle(connection.backingKeys(), cached.size()));
    BackingKeyWarmup.Warmed warmed = warm(next, hot);
    List<Session> left;
    try {
      if (!lock.writeLock().tryLock(RECYCLE_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
        SessionPool.closeQuietly(warmed.session());
        SessionPool.closeQuietly(next.session());
        return false;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      SessionPool.closeQuietly(warmed.session());
      SessionPool.closeQuietly(next.session());
      return false;
    }
    long locked = System.nanoTime();
    try {
      if (closed.get()) {
        SessionPool.closeQuietly(warmed.session());
        SessionPool.closeQuietly(next.session());
        return false;
      }
      left = connection.moveTo(next, warmed);
      standby.switched();
      // The warmed keys stand for the cached objects the finalize of the instance left frees whole
      // (no remains): not counted, as the keys unwrapped again after the move.
      recycling.done(calls.objectsMade());
    } finally {
      lock.writeLock().unlock();
    }
    long heldNanos = System.nanoTime() - locked;
    long retireStart = System.nanoTime();
    retire(left);
    long refillStart = System.nanoTime();
    int refilled = refill(hot, warmed.count());
    recycling.exclude(refilled);
    int dropped = connection.backingKeys().dropStale();
    LOG.info(
        "token {}: switched to a fresh instance of the PKCS#11 library after {} objects made"
            + " (calls held {} us; {} of the {} cached backing keys carried over; standby ready in"
            + " {} ms with {} backing keys unwrapped in {} ms, old instance finalized in {} ms, {}"
            + " more backing keys unwrapped after the switch in {} ms, {} not unwrapped again"
            + " dropped)",
        config.tokenLabel(),
        recycling.bound(),
        heldNanos / 1_000,
        hot.size(),
        cached.size(),
        (warmStart - start) / 1_000_000,
        warmed.count(),
        (locked - warmStart) / 1_000_000,
        (refillStart - retireStart) / 1_000_000,
        refilled,
        (System.nanoTime() - refillStart) / 1_000_000,
        dropped);
    return true;
  }

  /**
   * After the move and the old instance's finalize: unwraps again the keys of {@code hot} that the
   * cache does not hold yet, in batches of {@link #REFILL_BATCH} keys, each run as a request's work
   * is ({@link TokenConnection#call}) and alongside the requests; at most half the recycle bound
   * less the {@code warmed} keys, {@link #WARM_BUDGET_MILLIS}, and stopped by the first failure or
   * a close.
   *
   * <p>Why after the move and not before it: until the old instance is finalized, every key
   * unwrapped on the standby is held twice, and the instance left holds the whole cache and its
   * destroyed objects' remains (the server's peak resident memory). Left to the requests, each of
   * these keys would miss once on its first use, and under a Zipf(1.0) choice the cache's colder
   * half waits tens of seconds for it: the hit rate dips at every recycle.
   */
  private int refill(List<WrappedKey> hot, int warmed) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WARM_BUDGET_MILLIS);
    BackingKeys backingKeys = connection.backingKeys();
    DomainKeys domainKeys = connection.domainKeys();
    List<WrappedKey> missing =
        hot.stream()
            .filter(key -> BackingKeyWarmup.cacheable(key) && !backingKeys.holds(key))
            .limit(Math.max(0, recycling.bound() / 2 - warmed))
            .toList();
    int done = 0;
    for (int from = 0; from < missing.size(); from += REFILL_BATCH) {
      if (closed.get() || System.nanoTime() > deadline) {
        break;
      }
      List<WrappedKey> batch = missing.subList(from, Math.min(missing.size(), from + REFILL_BATCH));
      try {
        done +=
            connection.call(
                "refill the backing key cache",
                session -> {
                  int unwrapped = 0;
                  for (WrappedKey key : batch) {
                    int generation = key.domainKeyGeneration();
                    long domainKey = domainKeys.handle(session, generation);
                    BackingKeyUse use = domainKeys.backingKeyUse(session, generation);
                    if (backingKeys.prefetch(session, domainKey, use, key)) {
                      unwrapped++;
                    }
                  }
                  return unwrapped;
                },
                false);
      } catch (PKCS11Exception | RuntimeException e) {
        LOG.debug("refill of the backing key cache stopped after {} keys: {}", done, e.toString());
        break;
      }
    }
    return done;
  }

  /**
   * Unwraps the most used cached backing keys on the standby ({@link BackingKeyWarmup}): at most
   * {@link #WARM_SHARE} of the cache's size, half the recycle bound, and {@link
   * #WARM_BUDGET_MILLIS}. Until the move the token holds the warmed keys twice, about 7 KB each on
   * SoftHSM2, beside the instance left with its whole cache and remains: the server's peak resident
   * memory. Under a Zipf(1.0) choice over 100,000 keys the 2,500 most used of a 20,000-key cache
   * carry 80% of its hits (5,000: 87%) for 17 MB; the rest are unwrapped again within seconds of
   * the move ({@link #refill}), by the refill or by their first use.
   */
  private BackingKeyWarmup.Warmed warm(Prepared next, List<WrappedKey> hot) {
    int limit =
        (int)
            Math.min(
                config.cacheMaxKeys() == 0 ? 0 : Math.max(1, config.cacheMaxKeys() / WARM_SHARE),
                recycling.bound() / 2);
    if (limit < 1 || hot.isEmpty()) {
      return BackingKeyWarmup.Warmed.none();
    }
    Session session;
    try {
      calls.before(Pkcs11Function.C_OPEN_SESSION);
      session = next.token().openSession(true);
    } catch (PKCS11Exception | RuntimeException e) {
      return BackingKeyWarmup.Warmed.none();
    }
    return BackingKeyWarmup.warm(
        connection.backingKeys(),
        hot,
        session,
        next.keys(),
        limit,
        TimeUnit.MILLISECONDS.toNanos(WARM_BUDGET_MILLIS));
  }

  private Prepared openStandby() throws IOException, PKCS11Exception {
    PKCS11Module instance = standby.ready();
    calls.before(Pkcs11Function.C_GET_SLOT_LIST);
    Token nextToken = TokenFinder.byLabel(instance, config.tokenLabel());
    calls.before(Pkcs11Function.C_OPEN_SESSION);
    Session session = nextToken.openSession(true);
    try {
      calls.before(Pkcs11Function.C_LOGIN);
      UserLogin.logIn(session, config.userPin());
      DomainKeys keys = new DomainKeys(calls);
      keys.scan(session);
      return new Prepared(instance, nextToken, session, keys);
    } catch (PKCS11Exception | RuntimeException e) {
      SessionPool.closeQuietly(session);
      throw e;
    }
  }

  /**
   * Frees the instance the connection left: finalizes it, or, when another user shares it, closes
   * this connection's sessions there one by one (which destroys their objects).
   */
  private void retire(List<Session> left) {
    boolean finalized = false;
    try {
      finalized = standby.refreshLeft();
    } catch (PKCS11Exception | HsmException e) {
      LOG.warn(
          "token {}: the library instance left did not finalize ({}); tried again before its next"
              + " use",
          config.tokenLabel(),
          reason(e));
    }
    if (!finalized) {
      left.forEach(SessionPool::closeQuietly);
    }
  }

  /**
   * Initializes the library afresh in place: waits briefly for the calls in flight to end, so that
   * none runs while the library is finalized, then finalizes, initializes, finds the token, logs in
   * and finds the domain keys again. Calls that arrive meanwhile wait for it, within their
   * deadline. Not done when another user shares the library, or on a failure (then the next call's
   * failure recovers as from a device fault).
   */
  private boolean recycleInPlace() {
    try {
      if (!lock.writeLock().tryLock(RECYCLE_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
        return false;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
    try {
      if (closed.get()) {
        return false;
      }
      long start = System.nanoTime();
      long made = calls.objectsMade();
      calls.before(Pkcs11Function.C_FINALIZE);
      if (!Pkcs11Modules.reinitialize(config.modulePath())) {
        LOG.debug("token {}: library shared, not recycled", config.tokenLabel());
        recycling.postpone(made);
        return false;
      }
      connection.reinitialized();
      recycling.done(made);
      // The cache starts empty here; the next switch counts its hits and misses from now.
      carryOver.keysForThisRecycle(connection.backingKeys(), 0);
      LOG.info(
          "token {}: PKCS#11 library initialized afresh after {} objects made, in {} ms",
          config.tokenLabel(),
          recycling.bound(),
          (System.nanoTime() - start) / 1_000_000);
      return true;
    } catch (PKCS11Exception | HsmException e) {
      // As after a device fault: the next call fails and reopens the token.
      recycling.postpone(calls.objectsMade());
      connection.lostInitialization();
      LOG.warn("token {}: library recycle failed: {}", config.tokenLabel(), reason(e));
      return false;
    } finally {
      lock.writeLock().unlock();
    }
  }

  private static String reason(Exception e) {
    return e instanceof PKCS11Exception p ? Pkcs11Errors.name(p.getErrorCode()) : e.getMessage();
  }
}
