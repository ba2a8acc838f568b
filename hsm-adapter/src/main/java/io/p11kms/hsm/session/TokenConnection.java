package io.p11kms.hsm.session;

import io.p11kms.hsm.HsmConfig;
import io.p11kms.hsm.HsmUnavailableException;
import io.p11kms.hsm.TokenCallInterceptor;
import io.p11kms.hsm.domain.DomainKeys;
import io.p11kms.hsm.keys.BackingKeyWarmup;
import io.p11kms.hsm.keys.BackingKeys;
import io.p11kms.hsm.keys.KeyTemplates;
import io.p11kms.hsm.session.Pkcs11Errors.Recovery;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11Module;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.Token;

/**
 * The adapter's hold on one token: the login, the session pool, the cached handles, and what keeps
 * them usable when the token misbehaves.
 *
 * <p>Every call runs on a worker thread within the call deadline ({@link DeadlineWorkers}), holding
 * the read side of a lock. A failed call is recovered by its CKR code ({@link ConnectionRecovery}),
 * under the write side, and retried once. The library is initialized afresh now and then, by moving
 * onto a standby instance of it ({@link LibraryRecycler}). This class holds what they share and the
 * changes they make to it.
 */
public final class TokenConnection implements AutoCloseable {
  /** Work done with a session while the connection is stable. */
  @FunctionalInterface
  public interface TokenWork<T> {
    T run(Session session) throws PKCS11Exception;
  }

  /** Test-only work done while no call is in flight. */
  @FunctionalInterface
  public interface ExclusiveWork {
    void run(PKCS11Module module, Token token) throws Exception;
  }

  private final HsmConfig config;
  private final Calls calls;
  private final TokenSessions sessions;
  private final StandbyLibrary standby;
  private final SessionPool pool;
  private final DomainKeys domainKeys;
  private final BackingKeys backingKeys;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final AtomicLong epoch = new AtomicLong();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final DeadlineWorkers workers;
  private final ConnectionRecovery recovery;
  // Held by a recycle and by close, never by a call: they must not run at once.
  private final Object recycleGate = new Object();
  private volatile LibraryRecycler recycler;
  private volatile PKCS11Module module;
  private volatile Token token;
  private Session loginSession;
  private volatile boolean closedCleanly;

  private TokenConnection(
      HsmConfig config,
      TokenCallInterceptor interceptor,
      PKCS11Module module,
      StandbyLibrary.Loader standbyLoader) {
    this.config = config;
    this.calls = new Calls(interceptor);
    this.sessions = new TokenSessions(calls, config.userPin(), () -> this.token);
    this.module = module;
    this.standby = new StandbyLibrary(config.modulePath(), module, standbyLoader, calls);
    this.pool =
        new SessionPool(sessions::openPooled, config.sessionPoolSize(), config.borrowTimeout());
    this.domainKeys = new DomainKeys(calls);
    this.backingKeys =
        new BackingKeys(
            config.cacheMaxKeys(),
            config.cacheMaxAge(),
            calls,
            () -> sessions.openOwned(pool),
            !KeyTemplates.publicSessionKeysAllowed(manufacturer(module)));
    this.workers = new DeadlineWorkers(pool, lock, epoch, closed, config.callTimeout());
    this.recovery = new ConnectionRecovery(this, config, workers, pool, lock, epoch, closed);
  }

  /**
   * Finds the token by label, logs in and finds the domain keys.
   *
   * @param module the shared instance of the library ({@link Pkcs11Modules})
   * @param standbyLoader loads the second instance a library recycle switches to
   */
  public static TokenConnection open(
      HsmConfig config,
      TokenCallInterceptor interceptor,
      PKCS11Module module,
      StandbyLibrary.Loader standbyLoader)
      throws PKCS11Exception {
    TokenConnection connection = new TokenConnection(config, interceptor, module, standbyLoader);
    try {
      connection.token = TokenFinder.byLabel(module, config.tokenLabel());
      connection.logInAndScan();
      LibraryRecycling recycling =
          new LibraryRecycling(
              config.libraryRecycleObjects(), manufacturer(module), connection.calls.objectsMade());
      connection.recycler =
          new LibraryRecycler(
              connection,
              config,
              connection.calls,
              connection.standby,
              recycling,
              connection.lock,
              connection.closed,
              connection.recycleGate);
      return connection;
    } catch (PKCS11Exception | RuntimeException e) {
      SessionPool.closeQuietly(connection.loginSession);
      connection.workers.shutdown();
      throw e;
    }
  }

  public Token token() {
    return token;
  }

  private static String manufacturer(PKCS11Module module) {
    try {
      return module.getInfo().getManufacturerID();
    } catch (Exception e) {
      return null;
    }
  }

  public LibraryRecycling recycling() {
    return recycler.recycling();
  }

  /**
   * Frees what the library keeps of destroyed objects when enough were made since the last time
   * ({@link LibraryRecycler}).
   *
   * @return whether it was done
   */
  public boolean recycleLibraryIfDue() {
    return recycler.recycleIfDue();
  }

  /**
   * Moves the connection onto a standby instance of the library, with the backing keys {@code
   * warmed} there as the cache; the write lock is held.
   *
   * @return the sessions of the instance left
   */
  List<Session> moveTo(LibraryRecycler.Prepared next, BackingKeyWarmup.Warmed warmed) {
    List<Session> left = new ArrayList<>(pool.forgetAll());
    if (loginSession != null) {
      left.add(loginSession);
    }
    left.addAll(backingKeys.ownerSessions());
    module = next.module();
    token = next.token();
    domainKeys.adopt(next.keys());
    loginSession = next.session();
    try {
      pool.register(next.session());
      if (warmed.session() != null) {
        pool.register(warmed.session());
      }
    } catch (PKCS11Exception e) {
      // Cannot happen: the pool holds no handle now, and the two sessions are distinct.
    }
    backingKeys.moveTo(warmed);
    recovery.reopenDone();
    epoch.incrementAndGet();
    return left;
  }

  /**
   * After the library was initialized afresh in place (every session and object of the old
   * initialization is gone): finds the token, logs in and finds the domain keys again; the write
   * lock is held.
   */
  void reinitialized() throws PKCS11Exception {
    forgetSessions();
    epoch.incrementAndGet();
    calls.before(Pkcs11Function.C_GET_SLOT_LIST);
    token = TokenFinder.byLabel(module, config.tokenLabel());
    pool.forgetAll();
    logInAndScan();
  }

  /**
   * After a failed initialization in place: the next call fails and reopens the token, as after a
   * device fault; the write lock is held.
   */
  void lostInitialization() {
    recovery.reopenNeeded();
    forgetSessions();
  }

  /**
   * Moves on with each library instance and login the connection uses (a recycle, a reopen): a
   * handle found in one epoch may name nothing, or another object, in the next. Stable while a call
   * runs.
   */
  public long epoch() {
    return epoch.get();
  }

  public Calls calls() {
    return calls;
  }

  public DomainKeys domainKeys() {
    return domainKeys;
  }

  public SessionPool pool() {
    return pool;
  }

  public BackingKeys backingKeys() {
    return backingKeys;
  }

  /**
   * Runs {@code work} with a session of its own, within the call deadline; on a failure that a
   * recovery can cure, recovers and runs it once more. PKCS#11 errors reach the caller unchanged,
   * to be mapped by the step that knows their meaning.
   *
   * @param retry whether to recover and retry (false only for tests that want the raw failure)
   * @throws HsmUnavailableException when no session frees up in time, the deadline passes, or the
   *     adapter is closed
   */
  public <T> T call(String operation, TokenWork<T> work, boolean retry) throws PKCS11Exception {
    return call(operation, work, retry, 1);
  }

  /**
   * As {@link #call(String, TokenWork, boolean)}, with {@code deadlineFactor} times the call
   * deadline: for RSA key generation, whose prime search takes seconds and varies with luck and
   * load.
   */
  <T> T call(String operation, TokenWork<T> work, boolean retry, int deadlineFactor)
      throws PKCS11Exception {
    for (int attempt = 1; ; attempt++) {
      DeadlineWorkers.Attempt<T> current = workers.attempt(work);
      try {
        return workers.runWithDeadline(operation, current, deadlineFactor);
      } catch (PKCS11Exception e) {
        Recovery kind = Pkcs11Errors.recoveryFor(e.getErrorCode());
        if (!retry || kind == Recovery.NONE) {
          throw e;
        }
        boolean recovered = recovery.recover(current.epochSeen(), kind, e.getErrorCode());
        if (!recovered || attempt > 1) {
          throw e;
        }
      }
    }
  }

  /**
   * Logs in again after the login was lost; the write lock is held. C_Logout destroyed every
   * private session object, but public ones survive it (the cached backing keys on SoftHSM2): the
   * sessions they live in are closed, which destroys them, and their handles forgotten.
   */
  void logInAgain() throws PKCS11Exception {
    for (Session owner : backingKeys.ownerSessions()) {
      pool.unregister(owner);
      SessionPool.closeQuietly(owner);
    }
    backingKeys.forgetAll();
    domainKeys.clear();
    sessions.logInAgain(loginSession, domainKeys);
  }

  /**
   * Closes every session, logs in and finds the keys again; first, if {@code reopen}, initializes
   * the library if needed and finds the token again by label. The write lock is held.
   */
  void resetSessions(boolean reopen) throws PKCS11Exception {
    forgetSessions();
    if (reopen) {
      calls.before(Pkcs11Function.C_INITIALIZE);
      Pkcs11Modules.initialize(module, config.moduleInitString());
      calls.before(Pkcs11Function.C_GET_SLOT_LIST);
      token = TokenFinder.byLabel(module, config.tokenLabel());
    }
    sessions.closeAll(module);
    pool.forgetAll();
    logInAndScan();
  }

  /**
   * Drops every session handle, cached backing key and domain key handle without closing or
   * destroying anything: their sessions are gone, or about to be (a reset, a reopen, a recycle).
   */
  private void forgetSessions() {
    pool.markStale();
    backingKeys.forgetAll();
    domainKeys.clear();
    loginSession = null;
  }

  private void logInAndScan() throws PKCS11Exception {
    loginSession = sessions.logInAndScan(pool, domainKeys);
  }

  /**
   * @throws HsmUnavailableException once the connection is closed
   */
  public void checkOpen() {
    if (closed.get()) {
      throw new HsmUnavailableException("the HSM adapter is closed");
    }
  }

  public boolean isClosed() {
    return closed.get();
  }

  /** Runs {@code work} while no call is in flight (test faults only). */
  public void exclusive(ExclusiveWork work) throws Exception {
    lock.writeLock().lock();
    try {
      work.run(module, token);
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Waits for calls in flight, then closes every session and logs out. */
  @Override
  public void close() {
    synchronized (recycleGate) {
      closeUnderGate();
    }
  }

  private void closeUnderGate() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    closedCleanly = false;
    boolean quiet;
    try {
      quiet = lock.writeLock().tryLock(config.callTimeout().toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      quiet = false;
    }
    try {
      pool.close();
      if (quiet) {
        backingKeys.ownerSessions().forEach(SessionPool::closeQuietly);
        backingKeys.forgetAll();
        if (loginSession != null) {
          try {
            loginSession.logout();
          } catch (PKCS11Exception | RuntimeException e) {
            // Already logged out, or the token is gone: nothing to undo.
          }
          SessionPool.closeQuietly(loginSession);
        }
      }
    } finally {
      if (quiet) {
        lock.writeLock().unlock();
      }
      workers.shutdown();
      standby.close(!quiet);
    }
    closedCleanly = quiet;
  }

  /**
   * Whether {@link #close()} found no call in flight. If one was still running (hung in the
   * library), the library must not be finalized under it.
   */
  public boolean closedCleanly() {
    return closedCleanly;
  }
}
