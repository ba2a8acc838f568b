package io.p11kms.hsm.session;

import io.p11kms.hsm.HsmConfig;
import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.session.Pkcs11Errors.Recovery;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.PKCS11Exception;

/**
 * Recovers a connection after a failed call, by the call's CKR code ({@link
 * Pkcs11Errors#recoveryFor}): log in again; or close every session, log in and find the keys again
 * by label; or, for a device fault, also initialize the library if needed and find the token again
 * by label, at most once per reopen interval. A step that fails escalates to the next.
 *
 * <p>Recovery takes the write side of the connection's lock, so that it never runs while a call is
 * in flight (including one abandoned at its deadline). Each recovery moves the epoch on: a failure
 * seen in an older epoch is not recovered twice. One recovery runs at a time; callers that saw the
 * same failure wait for it.
 */
final class ConnectionRecovery {
  private static final Logger LOG = LoggerFactory.getLogger(TokenConnection.class);

  private final TokenConnection connection;
  private final HsmConfig config;
  private final DeadlineWorkers workers;
  private final SessionPool pool;
  private final ReentrantReadWriteLock lock;
  private final AtomicLong epoch;
  private final AtomicBoolean closed;
  private final long callTimeoutNanos;

  private final Object gate = new Object();
  private Future<Boolean> recovery;
  private long recoveryEpoch = -1;
  private long lastReopenNanos;
  private long nextAttemptNanos;
  // Read and written with the write lock held.
  private boolean reopenNeeded;

  ConnectionRecovery(
      TokenConnection connection,
      HsmConfig config,
      DeadlineWorkers workers,
      SessionPool pool,
      ReentrantReadWriteLock lock,
      AtomicLong epoch,
      AtomicBoolean closed) {
    this.connection = connection;
    this.config = config;
    this.workers = workers;
    this.pool = pool;
    this.lock = lock;
    this.epoch = epoch;
    this.closed = closed;
    this.callTimeoutNanos = config.callTimeout().toNanos();
    long now = System.nanoTime();
    this.lastReopenNanos = now - config.reopenInterval().toNanos();
    this.nextAttemptNanos = now;
  }

  /** The next recovery reopens the token whatever the failure; the write lock is held. */
  void reopenNeeded() {
    reopenNeeded = true;
  }

  /**
   * The connection is whole again (it moved to a fresh library instance); the write lock is held.
   */
  void reopenDone() {
    reopenNeeded = false;
  }

  /**
   * Recovers from a failure of kind {@code kind} seen in epoch {@code seenEpoch}, unless that was
   * done already.
   *
   * @return whether the connection was recovered since the failure
   */
  boolean recover(long seenEpoch, Recovery kind, long code) {
    Future<Boolean> running;
    synchronized (gate) {
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

  /** Runs one recovery step; the write lock is held. */
  private void apply(Recovery todo) throws PKCS11Exception {
    switch (todo) {
      case LOG_IN -> connection.logInAgain();
      case REOPEN -> {
        lastReopenNanos = System.nanoTime();
        connection.resetSessions(true);
      }
      default -> connection.resetSessions(false);
    }
  }

  /** No new recovery for the same failure before {@code nanos}. */
  private void retryAfter(long nanos) {
    synchronized (gate) {
      nextAttemptNanos = nanos;
    }
  }
}
