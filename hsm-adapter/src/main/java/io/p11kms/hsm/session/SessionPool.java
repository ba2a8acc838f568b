package io.p11kms.hsm.session;

import io.p11kms.hsm.HsmUnavailableException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/**
 * A bounded pool of read-write sessions on one token.
 *
 * <p>Why: a PKCS#11 session runs one operation at a time, and opening one per request costs a token
 * round trip. At most {@code size} calls hold a session at once: a caller that gets no permit
 * within the borrow timeout gets {@link HsmUnavailableException} instead of waiting forever. The
 * permit is taken on the caller's thread ({@link #acquirePermit()}) and given back by whoever ends
 * the call ({@link #releasePermit()}), so that a call abandoned at its deadline keeps its permit
 * until its native call returns: a hung token shrinks the pool instead of growing a thread pile.
 *
 * <p>A session comes back {@link Outcome#KEEP kept}, {@link Outcome#CLOSE closed} (it failed, or
 * its caller left at the deadline) or {@link Outcome#DROP dropped} without a close (its handle is
 * stale: after a library reset the same number may already name another, new session).
 *
 * <p>It also remembers the handle of every session the adapter holds (pooled or not, see {@link
 * #register}). A new session that gets a handle the adapter already holds proves that the library
 * was reset under it (handles were handed out again): the pool then refuses to hand out sessions,
 * each borrow failing with {@code CKR_SESSION_HANDLE_INVALID}, until {@link #forgetAll()} after the
 * reconnect.
 */
public final class SessionPool implements AutoCloseable {

  /** How a borrowed session comes back. */
  enum Outcome {
    KEEP,
    CLOSE,
    DROP
  }

  /** Opens a new session; supplied by the owner, who knows how to log in. */
  @FunctionalInterface
  interface SessionFactory {
    Session open() throws PKCS11Exception;
  }

  private final SessionFactory factory;
  private final Semaphore permits;
  private final int size;
  private final long borrowTimeoutNanos;
  private final ConcurrentLinkedQueue<Session> idle = new ConcurrentLinkedQueue<>();
  private final Set<Long> held = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile boolean stale;

  SessionPool(SessionFactory factory, int size, Duration borrowTimeout) {
    this.factory = factory;
    // Non-fair: a fair semaphore hands every release to a parked thread (a wake-up and a context
    // switch per call under load, docs/performance.md finding 2); barging lets the running thread
    // go on. The borrow timeout still bounds every wait.
    this.permits = new Semaphore(size);
    this.size = size;
    this.borrowTimeoutNanos = borrowTimeout.toNanos();
  }

  /**
   * Waits up to the borrow timeout for the right to hold a session.
   *
   * @throws HsmUnavailableException when none frees up in time, or the pool is closed
   */
  void acquirePermit() {
    if (closed.get()) {
      throw new HsmUnavailableException("session pool is closed");
    }
    boolean acquired;
    try {
      acquired = permits.tryAcquire(borrowTimeoutNanos, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HsmUnavailableException("interrupted while waiting for a token session");
    }
    if (!acquired) {
      throw new HsmUnavailableException(
          "no token session free within "
              + Duration.ofNanos(borrowTimeoutNanos).toMillis()
              + " ms");
    }
  }

  void releasePermit() {
    permits.release();
  }

  /** A session for the holder of a permit: an idle one, or a new one. */
  Session take() throws PKCS11Exception {
    if (closed.get()) {
      throw new HsmUnavailableException("session pool is closed");
    }
    if (stale) {
      throw new PKCS11Exception(PKCS11Constants.CKR_SESSION_HANDLE_INVALID);
    }
    Session session = idle.poll();
    if (session != null) {
      return session;
    }
    session = factory.open();
    register(session);
    return session;
  }

  /**
   * Remembers a session the adapter holds.
   *
   * @throws PKCS11Exception {@code CKR_SESSION_HANDLE_INVALID} when the handle is one the adapter
   *     already holds: the library was reset, every handle is stale
   */
  void register(Session session) throws PKCS11Exception {
    if (!held.add(session.getSessionHandle())) {
      stale = true;
      throw new PKCS11Exception(PKCS11Constants.CKR_SESSION_HANDLE_INVALID);
    }
  }

  /** Forgets a session closed by its owner. */
  void unregister(Session session) {
    held.remove(session.getSessionHandle());
  }

  void giveBack(Session session, Outcome outcome) {
    if (outcome == Outcome.KEEP && !closed.get() && !stale) {
      idle.offer(session);
      return;
    }
    held.remove(session.getSessionHandle());
    // Once handles are known to be stale, closing one might close a new session by its number.
    if (outcome != Outcome.DROP && !stale) {
      closeQuietly(session);
    }
  }

  /** Stops handing out sessions until {@link #forgetAll()}: their handles may be stale. */
  void markStale() {
    stale = true;
  }

  /**
   * Forgets every session without closing any: the caller has closed them all at once (or the
   * library did, or will). Runs while no call holds a session.
   *
   * @return the idle sessions forgotten
   */
  List<Session> forgetAll() {
    List<Session> forgotten = new ArrayList<>(idle);
    idle.clear();
    held.clear();
    stale = false;
    return forgotten;
  }

  /** Sessions borrowed now (for metrics; a snapshot). */
  public int inUseCount() {
    return Math.max(0, size - permits.availablePermits());
  }

  /** Callers waiting to borrow a session (for metrics; an estimate, as the JDK's). */
  public int waitingCount() {
    return permits.getQueueLength();
  }

  /** Sessions waiting in the pool. */
  int idleCount() {
    return idle.size();
  }

  /** Closes the idle sessions; sessions still borrowed are closed when they come back. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      Session session;
      while ((session = idle.poll()) != null) {
        held.remove(session.getSessionHandle());
        closeQuietly(session);
      }
    }
  }

  static void closeQuietly(Session session) {
    if (session == null) {
      return;
    }
    try {
      session.closeSession();
    } catch (PKCS11Exception | RuntimeException e) {
      // A session that cannot be closed is already gone.
    }
  }
}
