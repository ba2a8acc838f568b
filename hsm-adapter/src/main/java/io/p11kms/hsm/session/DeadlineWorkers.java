package io.p11kms.hsm.session;

import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.HsmUnavailableException;
import io.p11kms.hsm.session.Pkcs11Errors.Recovery;
import java.time.Duration;
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
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/**
 * Runs every token call on a worker thread while its caller waits at most the call deadline. A
 * native PKCS#11 call cannot be interrupted, so a caller released at the deadline leaves the call
 * running, and its session is closed (not pooled) when the call finally returns.
 *
 * <p>A call holds the read side of the connection's lock while it runs (recovery and recycling take
 * the write side) and notes the epoch it ran in, so that its failure is recovered at most once.
 */
final class DeadlineWorkers {
  private static final AtomicInteger THREADS = new AtomicInteger();

  private final SessionPool pool;
  private final ReentrantReadWriteLock lock;
  private final AtomicLong epoch;
  private final AtomicBoolean closed;
  private final Duration callTimeout;
  private final ExecutorService workers =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "p11kms-token-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
          });

  DeadlineWorkers(
      SessionPool pool,
      ReentrantReadWriteLock lock,
      AtomicLong epoch,
      AtomicBoolean closed,
      Duration callTimeout) {
    this.pool = pool;
    this.lock = lock;
    this.epoch = epoch;
    this.closed = closed;
    this.callTimeout = callTimeout;
  }

  /** A run of {@code work} not started yet. */
  <T> Attempt<T> attempt(TokenConnection.TokenWork<T> work) {
    return new Attempt<>(work);
  }

  /**
   * Runs {@code attempt} with a pooled session and waits for it at most {@code deadlineFactor} call
   * deadlines.
   *
   * @throws HsmUnavailableException when no session frees up in time, the deadline passes, or the
   *     adapter is closed
   */
  <T> T runWithDeadline(String operation, Attempt<T> attempt, int deadlineFactor)
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
      return future.get(callTimeout.toNanos() * deadlineFactor, TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      attempt.abandoned = true;
      throw new HsmUnavailableException(
          operation + " did not finish within " + callTimeout.toMillis() * deadlineFactor + " ms");
    } catch (InterruptedException e) {
      attempt.abandoned = true;
      Thread.currentThread().interrupt();
      throw new HsmUnavailableException("interrupted while waiting for the token");
    } catch (ExecutionException e) {
      throw rethrow(operation, e.getCause());
    }
  }

  /**
   * Runs {@code task} on a worker thread (a recovery, which must not run on a caller's thread).
   *
   * @throws RejectedExecutionException when the workers are shut down
   */
  <T> Future<T> submit(Callable<T> task) {
    return workers.submit(task);
  }

  /** Takes no more work; calls running go on to their end. */
  void shutdown() {
    workers.shutdown();
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
  final class Attempt<T> implements Callable<T> {
    private final TokenConnection.TokenWork<T> work;
    private volatile boolean abandoned;
    private volatile long epochSeen = -1;

    private Attempt(TokenConnection.TokenWork<T> work) {
      this.work = work;
    }

    /** The connection's epoch when the call ran; -1 if it never started. */
    long epochSeen() {
      return epochSeen;
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
}
