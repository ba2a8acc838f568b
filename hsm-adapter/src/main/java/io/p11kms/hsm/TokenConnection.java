package io.p11kms.hsm;

import io.p11kms.hsm.Pkcs11Errors.Recovery;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11Module;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.Token;

/**
 * The adapter's hold on one token: the login, the session pool, the cached handles, and what keeps
 * them usable when the token misbehaves.
 *
 * <p>Every call runs on a worker thread while its caller waits at most the call deadline: a native
 * PKCS#11 call cannot be interrupted, so a caller released at the deadline leaves the call running,
 * and its session is closed (not pooled) when the call finally returns.
 *
 * <p>Calls hold the read side of a lock; recovery takes the write side, so that it never runs while
 * a call is in flight (including one abandoned at its deadline). A failed call is recovered by its
 * CKR code ({@link Pkcs11Errors#recoveryFor}): log in again; or close every session, log in and
 * find the keys again by label; or, for a device fault, also initialize the library if needed and
 * find the token again by label, at most once per reopen interval. Each recovery moves the epoch
 * on: a failure seen in an older epoch is not recovered twice. The call is then retried once.
 */
final class TokenConnection implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TokenConnection.class);
  private static final AtomicInteger THREADS = new AtomicInteger();
  // Calls in flight take well under a millisecond; one still running after this is likely hung.
  private static final long RECYCLE_WAIT_MILLIS = 100;

  /** Work done with a session while the connection is stable. */
  @FunctionalInterface
  interface TokenWork<T> {
    T run(Session session) throws PKCS11Exception;
  }

  /** Test-only work done while no call is in flight. */
  @FunctionalInterface
  interface ExclusiveWork {
    void run(PKCS11Module module, Token token) throws Exception;
  }

  private final HsmConfig config;
  private final Calls calls;
  private final StandbyLibrary standby;
  private final SessionPool pool;
  private final DomainKeys domainKeys;
  private final BackingKeys backingKeys;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final AtomicLong epoch = new AtomicLong();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final ExecutorService workers;
  private final long callTimeoutNanos;
  private volatile LibraryRecycling recycling;
  private volatile PKCS11Module module;
  private volatile Token token;
  private Session loginSession;
  private volatile boolean closedCleanly;

  // Held by a recycle and by close, never by a call: they must not run at once.
  private final Object recycleGate = new Object();
  private boolean standbyUnavailable;

  private final Object recoveryGate = new Object();
  private Future<Boolean> recovery;
  private long recoveryEpoch = -1;
  private long lastReopenNanos;
  private long nextAttemptNanos;
  private boolean reopenNeeded;

  private TokenConnection(
      HsmConfig config,
      TokenCallInterceptor interceptor,
      PKCS11Module module,
      StandbyLibrary.Loader standbyLoader) {
    this.config = config;
    this.calls = new Calls(interceptor);
    this.module = module;
    this.standby = new StandbyLibrary(config.modulePath(), module, standbyLoader, calls);
    this.callTimeoutNanos = config.callTimeout().toNanos();
    this.pool =
        new SessionPool(this::openPooledSession, config.sessionPoolSize(), config.borrowTimeout());
    this.domainKeys = new DomainKeys(calls);
    this.backingKeys =
        new BackingKeys(config.cacheMaxKeys(), config.cacheMaxAge(), calls, this::openOwnedSession);
    this.workers =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "p11kms-token-" + THREADS.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    long now = System.nanoTime();
    this.lastReopenNanos = now - config.reopenInterval().toNanos();
    this.nextAttemptNanos = now;
  }

  /**
   * Finds the token by label, logs in and finds the domain keys.
   *
   * @param module the shared instance of the library ({@link Pkcs11Modules})
   * @param standbyLoader loads the second instance a library recycle switches to
   */
  static TokenConnection open(
      HsmConfig config,
      TokenCallInterceptor interceptor,
      PKCS11Module module,
      StandbyLibrary.Loader standbyLoader)
      throws PKCS11Exception {
    TokenConnection connection = new TokenConnection(config, interceptor, module, standbyLoader);
    try {
      connection.token = TokenFinder.byLabel(module, config.tokenLabel());
      connection.logInAndScan();
      connection.recycling =
          new LibraryRecycling(
              config.libraryRecycleObjects(), manufacturer(module), connection.calls.objectsMade());
      return connection;
    } catch (PKCS11Exception | RuntimeException e) {
      SessionPool.closeQuietly(connection.loginSession);
      connection.workers.shutdown();
      throw e;
    }
  }

  Token token() {
    return token;
  }

  private static String manufacturer(PKCS11Module module) {
    try {
      return module.getInfo().getManufacturerID();
    } catch (Exception e) {
      return null;
    }
  }

  LibraryRecycling recycling() {
    return recycling;
  }

  /**
   * Frees what the library keeps of destroyed objects when enough were made since the last time
   * ({@link LibraryRecycling}), by switching to a standby instance of the library ({@link
   * StandbyLibrary}): logs in on it and finds the domain keys there while calls go on; then,
   * between two calls, moves the connection onto it; then finalizes the instance it left. Calls
   * wait only for the move (microseconds). The cached backing keys stay behind with their sessions.
   * When no standby can be loaded, the library is recycled in place instead.
   *
   * @return whether it was done; not when the calls in flight did not end in time (a hung call), or
   *     when the standby failed to open (then the next try is a bound later)
   */
  boolean recycleLibraryIfDue() {
    if (closed.get() || !recycling.due(calls.objectsMade())) {
      return false;
    }
    synchronized (recycleGate) {
      if (closed.get() || !recycling.due(calls.objectsMade())) {
        return false;
      }
      return standbyUnavailable ? recycleInPlace() : switchToStandby();
    }
  }

  /** A standby instance, logged in, its domain keys found; not yet in use. */
  private record Prepared(PKCS11Module module, Token token, Session session, DomainKeys keys) {}

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
          e instanceof PKCS11Exception p ? Pkcs11Errors.name(p.getErrorCode()) : e.getMessage());
      return false;
    }
    List<Session> left;
    try {
      if (!lock.writeLock().tryLock(RECYCLE_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
        SessionPool.closeQuietly(next.session());
        return false;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      SessionPool.closeQuietly(next.session());
      return false;
    }
    long locked = System.nanoTime();
    try {
      if (closed.get()) {
        SessionPool.closeQuietly(next.session());
        return false;
      }
      left = moveTo(next);
      standby.switched();
      recycling.done(made);
    } finally {
      lock.writeLock().unlock();
    }
    long heldNanos = System.nanoTime() - locked;
    long retireStart = System.nanoTime();
    retire(left);
    LOG.info(
        "token {}: switched to a fresh instance of the PKCS#11 library after {} objects made"
            + " (calls held {} us; standby ready in {} ms, old instance finalized in {} ms)",
        config.tokenLabel(),
        recycling.bound(),
        heldNanos / 1_000,
        (locked - start) / 1_000_000,
        (System.nanoTime() - retireStart) / 1_000_000);
    return true;
  }

  private Prepared openStandby() throws IOException, PKCS11Exception {
    PKCS11Module instance = standby.ready();
    calls.before(Pkcs11Function.C_GET_SLOT_LIST);
    Token nextToken = TokenFinder.byLabel(instance, config.tokenLabel());
    calls.before(Pkcs11Function.C_OPEN_SESSION);
    Session session = nextToken.openSession(true);
    try {
      calls.before(Pkcs11Function.C_LOGIN);
      logIn(session, config.userPin());
      DomainKeys keys = new DomainKeys(calls);
      keys.scan(session);
      return new Prepared(instance, nextToken, session, keys);
    } catch (PKCS11Exception | RuntimeException e) {
      SessionPool.closeQuietly(session);
      throw e;
    }
  }

  /**
   * Moves the connection onto {@code next}; the write lock is held.
   *
   * @return the sessions of the instance left
   */
  private List<Session> moveTo(Prepared next) {
    List<Session> left = new ArrayList<>(pool.forgetAll());
    if (loginSession != null) {
      left.add(loginSession);
    }
    Session owner = backingKeys.ownerSession();
    if (owner != null) {
      left.add(owner);
    }
    backingKeys.forgetAll();
    module = next.module();
    token = next.token();
    domainKeys.adopt(next.keys());
    loginSession = next.session();
    try {
      pool.register(next.session());
    } catch (PKCS11Exception e) {
      // Cannot happen: the pool holds no handle now.
    }
    reopenNeeded = false;
    epoch.incrementAndGet();
    return left;
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
          e instanceof PKCS11Exception p ? Pkcs11Errors.name(p.getErrorCode()) : e.getMessage());
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
      // Every session and object of the old initialization is gone.
      forgetSessions();
      epoch.incrementAndGet();
      calls.before(Pkcs11Function.C_GET_SLOT_LIST);
      token = TokenFinder.byLabel(module, config.tokenLabel());
      pool.forgetAll();
      logInAndScan();
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
      reopenNeeded = true;
      forgetSessions();
      LOG.warn(
          "token {}: library recycle failed: {}",
          config.tokenLabel(),
          e instanceof PKCS11Exception p ? Pkcs11Errors.name(p.getErrorCode()) : e.getMessage());
      return false;
    } finally {
      lock.writeLock().unlock();
    }
  }

  Calls calls() {
    return calls;
  }

  DomainKeys domainKeys() {
    return domainKeys;
  }

  SessionPool pool() {
    return pool;
  }

  BackingKeys backingKeys() {
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
  <T> T call(String operation, TokenWork<T> work, boolean retry) throws PKCS11Exception {
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
      Attempt<T> current = new Attempt<>(work);
      try {
        return runWithDeadline(operation, current, deadlineFactor);
      } catch (PKCS11Exception e) {
        Recovery kind = Pkcs11Errors.recoveryFor(e.getErrorCode());
        if (!retry || kind == Recovery.NONE) {
          throw e;
        }
        boolean recovered = recover(current.epochSeen, kind, e.getErrorCode());
        if (!recovered || attempt > 1) {
          throw e;
        }
      }
    }
  }

  private <T> T runWithDeadline(String operation, Attempt<T> attempt, int deadlineFactor)
      throws PKCS11Exception {
    if (closed.get()) {
      throw new HsmUnavailableException("the HSM adapter is closed");
    }
    pool.acquirePermit();
    Future<T> future;
    try {
      future = workers.submit(attempt);
    } catch (RejectedExecutionException e) {
      pool.releasePermit();
      throw new HsmUnavailableException("the HSM adapter is closed");
    }
    try {
      return future.get(callTimeoutNanos * deadlineFactor, TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      attempt.abandoned = true;
      throw new HsmUnavailableException(
          operation
              + " did not finish within "
              + config.callTimeout().toMillis() * deadlineFactor
              + " ms");
    } catch (InterruptedException e) {
      attempt.abandoned = true;
      Thread.currentThread().interrupt();
      throw new HsmUnavailableException("interrupted while waiting for the token");
    } catch (ExecutionException e) {
      throw rethrow(operation, e.getCause());
    }
  }

  private static PKCS11Exception rethrow(String operation, Throwable cause) {
    if (cause instanceof PKCS11Exception p) {
      return p;
    }
    if (cause instanceof RuntimeException r) {
      throw r;
    }
    if (cause instanceof Error error) {
      throw error;
    }
    throw new HsmException(operation + " failed: " + cause.getClass().getSimpleName());
  }

  /** One run of a call on a worker thread. */
  private final class Attempt<T> implements Callable<T> {
    private final TokenWork<T> work;
    volatile boolean abandoned;
    volatile long epochSeen = -1;

    Attempt(TokenWork<T> work) {
      this.work = work;
    }

    @Override
    public T call() throws PKCS11Exception {
      lock.readLock().lock();
      try {
        epochSeen = epoch.get();
        if (abandoned) {
          throw new HsmUnavailableException("the caller left before the call started");
        }
        Session session = pool.take();
        SessionPool.Outcome outcome = SessionPool.Outcome.CLOSE;
        try {
          T result = work.run(session);
          outcome = SessionPool.Outcome.KEEP;
          return result;
        } catch (PKCS11Exception e) {
          boolean stale = Pkcs11Errors.recoveryFor(e.getErrorCode()) != Recovery.NONE;
          outcome = stale ? SessionPool.Outcome.DROP : SessionPool.Outcome.CLOSE;
          throw e;
        } catch (HsmException e) {
          // Raised by the adapter between token calls: the session is in a clean state.
          outcome = SessionPool.Outcome.KEEP;
          throw e;
        } finally {
          if (abandoned && outcome == SessionPool.Outcome.KEEP) {
            outcome = SessionPool.Outcome.CLOSE;
          }
          pool.giveBack(session, outcome);
        }
      } finally {
        lock.readLock().unlock();
        pool.releasePermit();
      }
    }
  }

  /**
   * Recovers from a failure of kind {@code kind} seen in epoch {@code seenEpoch}, unless that was
   * done already. One recovery runs at a time; callers that saw the same failure wait for it.
   *
   * @return whether the connection was recovered since the failure
   */
  private boolean recover(long seenEpoch, Recovery kind, long code) {
    Future<Boolean> running;
    synchronized (recoveryGate) {
      if (seenEpoch < 0 || epoch.get() != seenEpoch) {
        return seenEpoch >= 0;
      }
      if (recovery != null && recoveryEpoch == seenEpoch && !recovery.isDone()) {
        running = recovery;
      } else {
        if (recovery != null
            && recoveryEpoch == seenEpoch
            && System.nanoTime() - nextAttemptNanos < 0) {
          return false;
        }
        try {
          running = workers.submit(() -> reconnect(seenEpoch, kind, code));
        } catch (RejectedExecutionException e) {
          return false;
        }
        recovery = running;
        recoveryEpoch = seenEpoch;
      }
    }
    try {
      return running.get(callTimeoutNanos, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (ExecutionException | TimeoutException e) {
      return false;
    }
  }

  /** Waits for the calls in flight to end, then recovers, escalating when a step fails. */
  private boolean reconnect(long seenEpoch, Recovery kind, long code) throws InterruptedException {
    if (!lock.writeLock().tryLock(callTimeoutNanos, TimeUnit.NANOSECONDS)) {
      LOG.warn("token {}: calls still in flight, recovery deferred", config.tokenLabel());
      retryAfter(System.nanoTime() + config.reopenInterval().toNanos());
      return false;
    }
    try {
      if (closed.get()) {
        return false;
      }
      if (epoch.get() != seenEpoch) {
        return true;
      }
      Recovery todo = reopenNeeded ? Recovery.REOPEN : kind;
      while (true) {
        if (todo == Recovery.REOPEN
            && System.nanoTime() - lastReopenNanos < config.reopenInterval().toNanos()) {
          LOG.warn("token {}: reopened less than the reopen interval ago", config.tokenLabel());
          reopenNeeded = true;
          pool.markStale();
          retryAfter(lastReopenNanos + config.reopenInterval().toNanos());
          return false;
        }
        Recovery next;
        try {
          apply(todo);
          reopenNeeded = false;
          epoch.incrementAndGet();
          LOG.info(
              "token {}: recovered from {} ({})",
              config.tokenLabel(),
              Pkcs11Errors.name(code),
              todo == Recovery.LOG_IN
                  ? "logged in again"
                  : todo == Recovery.RESET ? "sessions reset" : "token reopened");
          return true;
        } catch (PKCS11Exception e) {
          next = Pkcs11Errors.recoveryFor(e.getErrorCode());
          LOG.warn(
              "token {}: {} failed: {}",
              config.tokenLabel(),
              todo,
              Pkcs11Errors.name(e.getErrorCode()));
        } catch (HsmException e) {
          next = Recovery.REOPEN;
          LOG.warn("token {}: {} failed: {}", config.tokenLabel(), todo, e.getMessage());
        }
        if (todo == Recovery.REOPEN) {
          reopenNeeded = true;
          pool.markStale();
          retryAfter(System.nanoTime() + config.reopenInterval().toNanos());
          return false;
        }
        todo = next.ordinal() > todo.ordinal() ? next : Recovery.values()[todo.ordinal() + 1];
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** No new recovery for the same failure before {@code nanos}. */
  private void retryAfter(long nanos) {
    synchronized (recoveryGate) {
      nextAttemptNanos = nanos;
    }
  }

  /** Runs one recovery step; the write lock is held. */
  private void apply(Recovery todo) throws PKCS11Exception {
    if (todo == Recovery.LOG_IN) {
      // C_Logout destroyed every private session object: the cached HBKs are gone.
      backingKeys.forgetKeys();
      domainKeys.clear();
      if (loginSession == null) {
        throw new PKCS11Exception(PKCS11Constants.CKR_SESSION_HANDLE_INVALID);
      }
      calls.before(Pkcs11Function.C_LOGIN);
      logIn(loginSession, config.userPin());
      domainKeys.scan(loginSession);
      return;
    }
    forgetSessions();
    if (todo == Recovery.REOPEN) {
      lastReopenNanos = System.nanoTime();
      calls.before(Pkcs11Function.C_INITIALIZE);
      Pkcs11Modules.initialize(module, config.moduleInitString());
      calls.before(Pkcs11Function.C_GET_SLOT_LIST);
      token = TokenFinder.byLabel(module, config.tokenLabel());
    }
    closeAllSessions();
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

  /** Closes every session of this application on the token; the library may know none. */
  private void closeAllSessions() {
    try {
      calls.before(Pkcs11Function.C_CLOSE_ALL_SESSIONS);
      module.getPKCS11Module().C_CloseAllSessions(token.getSlot().getSlotID());
    } catch (Exception e) {
      // Sessions the library does not know any more are closed already.
    }
  }

  private void logInAndScan() throws PKCS11Exception {
    calls.before(Pkcs11Function.C_OPEN_SESSION);
    Session session = token.openSession(true);
    try {
      calls.before(Pkcs11Function.C_LOGIN);
      logIn(session, config.userPin());
      pool.register(session);
      domainKeys.scan(session);
    } catch (PKCS11Exception | RuntimeException e) {
      pool.unregister(session);
      SessionPool.closeQuietly(session);
      throw e;
    }
    loginSession = session;
  }

  /** Logs in as the user, tolerating a login this application already holds; wipes the PIN. */
  static void logIn(Session session, PinSource pinSource) throws PKCS11Exception {
    char[] pin = pinSource.read();
    try {
      session.login(PKCS11Constants.CKU_USER, pin);
    } catch (PKCS11Exception e) {
      if (e.getErrorCode() != PKCS11Constants.CKR_USER_ALREADY_LOGGED_IN) {
        throw e;
      }
    } finally {
      Arrays.fill(pin, '\0');
    }
  }

  /** A new pooled session; one that is not logged in means the login was lost. */
  private Session openPooledSession() throws PKCS11Exception {
    calls.before(Pkcs11Function.C_OPEN_SESSION);
    Session session = token.openSession(true);
    try {
      calls.before(Pkcs11Function.C_GET_SESSION_INFO);
      if (session.getSessionInfo().getState() != PKCS11Constants.CKS_RW_USER_FUNCTIONS) {
        throw new PKCS11Exception(PKCS11Constants.CKR_USER_NOT_LOGGED_IN);
      }
      return session;
    } catch (PKCS11Exception | RuntimeException e) {
      SessionPool.closeQuietly(session);
      throw e;
    }
  }

  /** The session cached backing keys live in; registered so that a handle reuse is noticed. */
  private Session openOwnedSession() throws PKCS11Exception {
    Session session = openPooledSession();
    // Throws when the handle is one we already hold (the library was reset); it is not closed
    // then, since that number names a session we know by another object too.
    pool.register(session);
    return session;
  }

  /** Runs {@code work} while no call is in flight (test faults only). */
  void exclusive(ExclusiveWork work) throws Exception {
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
      quiet = lock.writeLock().tryLock(callTimeoutNanos, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      quiet = false;
    }
    try {
      pool.close();
      if (quiet) {
        SessionPool.closeQuietly(backingKeys.ownerSession());
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
  boolean closedCleanly() {
    return closedCleanly;
  }
}
