package io.p11kms.hsm;

import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/**
 * A bounded pool of read-write sessions on one token.
 *
 * <p>Why: a PKCS#11 session runs one operation at a time, and opening one per request costs a token
 * round trip. The pool holds at most {@code size} sessions; a caller that finds none free within
 * the borrow timeout gets {@link HsmUnavailableException} instead of waiting forever. A session
 * that reports {@code CKR_SESSION_HANDLE_INVALID} or {@code CKR_SESSION_CLOSED} is closed and a new
 * one opened on the next borrow, never handed out again.
 */
final class SessionPool implements AutoCloseable {

  /** Work done with a borrowed session. */
  @FunctionalInterface
  interface SessionWork<T> {
    T run(Session session) throws PKCS11Exception;
  }

  /** Opens a new logged-in session; supplied by the owner, who knows how to log in. */
  @FunctionalInterface
  interface SessionFactory {
    Session open() throws PKCS11Exception;
  }

  private final SessionFactory factory;
  private final Semaphore permits;
  private final long borrowTimeoutNanos;
  private final ConcurrentLinkedQueue<Session> idle = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean closed = new AtomicBoolean();

  SessionPool(SessionFactory factory, int size, Duration borrowTimeout) {
    this.factory = factory;
    this.permits = new Semaphore(size, true);
    this.borrowTimeoutNanos = borrowTimeout.toNanos();
  }

  /**
   * Runs {@code work} with a session of its own and gives the session back in {@code finally}.
   * PKCS#11 errors reach the caller unchanged, to be mapped by the step that knows their meaning.
   *
   * @throws HsmUnavailableException when no session frees up within the borrow timeout, or the pool
   *     is closed
   */
  <T> T execute(SessionWork<T> work) throws PKCS11Exception {
    Session session = borrow();
    boolean healthy = true;
    try {
      return work.run(session);
    } catch (PKCS11Exception e) {
      healthy = false;
      throw e;
    } catch (HsmException e) {
      // Raised by the adapter between token calls; the session is in a clean state.
      throw e;
    } catch (RuntimeException | Error e) {
      healthy = false;
      throw e;
    } finally {
      giveBack(session, healthy);
    }
  }

  private Session borrow() throws PKCS11Exception {
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
    Session session = idle.poll();
    if (session != null) {
      return session;
    }
    try {
      return factory.open();
    } catch (PKCS11Exception | RuntimeException e) {
      permits.release();
      throw e;
    }
  }

  private void giveBack(Session session, boolean healthy) {
    try {
      if (healthy && !closed.get()) {
        idle.offer(session);
      } else {
        closeQuietly(session);
      }
    } finally {
      permits.release();
    }
  }

  /** Closes the idle sessions; sessions still borrowed are closed when they come back. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      Session session;
      while ((session = idle.poll()) != null) {
        closeQuietly(session);
      }
    }
  }

  private static void closeQuietly(Session session) {
    try {
      session.closeSession();
    } catch (PKCS11Exception | RuntimeException e) {
      // A session that cannot be closed is already gone.
    }
  }
}
