package io.p11kms.hsm.session;

import io.p11kms.hsm.HsmConfig;
import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.domain.DomainKeys;
import io.p11kms.hsm.keys.BackingKeyWarmup;
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
 * held in the instance left go with that instance. When no standby can be loaded, the library is
 * recycled in place instead.
 */
final class LibraryRecycler {
  private static final Logger LOG = LoggerFactory.getLogger(TokenConnection.class);
  // Calls in flight take well under a millisecond; one still running after this is likely hung.
  private static final long RECYCLE_WAIT_MILLIS = 100;
  // The warm-up of the standby runs on the recycling thread (the health probe's): at most this.
  static final long WARM_BUDGET_MILLIS = 10_000;

  private final TokenConnection connection;
  private final HsmConfig config;
  private final Calls calls;
  private final StandbyLibrary standby;
  private final LibraryRecycling recycling;
  private final ReentrantReadWriteLock lock;
  private final AtomicBoolean closed;
  // Held by a recycle and by close, never by a call: they must not run at once.
  private final Object gate;
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
    BackingKeyWarmup.Warmed warmed = warm(next);
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
      // The warmed keys are the new instance's first objects.
      recycling.done(calls.objectsMade() - warmed.count());
    } finally {
      lock.writeLock().unlock();
    }
    long heldNanos = System.nanoTime() - locked;
    long retireStart = System.nanoTime();
    retire(left);
    LOG.info(
        "token {}: switched to a fresh instance of the PKCS#11 library after {} objects made"
            + " (calls held {} us; standby ready in {} ms with {} backing keys unwrapped in {} ms,"
            + " old instance finalized in {} ms)",
        config.tokenLabel(),
        recycling.bound(),
        heldNanos / 1_000,
        (warmStart - start) / 1_000_000,
        warmed.count(),
        (locked - warmStart) / 1_000_000,
        (System.nanoTime() - retireStart) / 1_000_000);
    return true;
  }

  /**
   * Unwraps the most used cached backing keys on the standby ({@link BackingKeyWarmup}): at most a
   * quarter of the cache's size, half the recycle bound, and {@link #WARM_BUDGET_MILLIS}. Until the
   * move the token holds the warmed keys twice, about 8 KB each on SoftHSM2: of a 10,000-key cache,
   * the 2,500 most used carry 86% of a Zipf(1.0) choice's hits for 20 MB, where half of it took the
   * server at 100,000 keys to 511 MiB resident, against 440 without a warm-up.
   */
  private BackingKeyWarmup.Warmed warm(Prepared next) {
    int limit =
        (int)
            Math.min(
                config.cacheMaxKeys() == 0 ? 0 : Math.max(1, config.cacheMaxKeys() / 4),
                recycling.bound() / 2);
    if (limit < 1) {
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
