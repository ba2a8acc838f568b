package io.p11kms.server.service;

import io.p11kms.hsm.Derivation;
import io.p11kms.hsm.Hsm;
import io.p11kms.hsm.TokenIdentity;
import io.p11kms.hsm.WrappedKey;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The XKS proxy API's deep health check, cached: AES-GCM encrypt and decrypt in the token under a
 * test key of its own (a backing key made for it, never a KMS key's), so that a healthy answer
 * means the next Encrypt or Decrypt can run. A result is served while younger than {@code
 * refreshAfter}; an older one starts a check in the background and is served meanwhile, up to
 * {@code maxAge} (the specification's one minute), after which the caller waits for the check.
 */
public final class XksHealthCheck implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(XksHealthCheck.class);

  /** One check's outcome; {@code failure} null when healthy. */
  public record Result(Instant checkedAt, KmsException failure) {
    public boolean healthy() {
      return failure == null;
    }
  }

  private final Hsm hsm;
  private final Clock clock;
  private final Duration refreshAfter;
  private final Duration maxAge;
  private final ExecutorService worker =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "p11kms-xks-health");
            t.setDaemon(true);
            return t;
          });
  private volatile Result last;
  private CompletableFuture<Result> running;
  private WrappedKey testKey;

  public XksHealthCheck(Hsm hsm, Clock clock, Duration refreshAfter, Duration maxAge) {
    this.hsm = hsm;
    this.clock = clock;
    this.refreshAfter = refreshAfter;
    this.maxAge = maxAge;
  }

  /** What the token says it is. */
  public TokenIdentity identity() {
    return hsm.identity();
  }

  /** The latest result young enough to serve, checking again first when there is none. */
  public Result current() {
    Result r = last;
    Instant now = clock.instant();
    if (r != null && now.isBefore(r.checkedAt().plus(refreshAfter))) {
      return r;
    }
    CompletableFuture<Result> check = start();
    if (r != null && now.isBefore(r.checkedAt().plus(maxAge))) {
      return r;
    }
    try {
      return check.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KmsException(KmsError.INTERNAL, "Internal error");
    } catch (ExecutionException e) {
      throw new KmsException(KmsError.INTERNAL, "Internal error");
    }
  }

  private synchronized CompletableFuture<Result> start() {
    if (running == null || running.isDone()) {
      running = CompletableFuture.supplyAsync(this::check, worker);
    }
    return running;
  }

  /** Runs on the worker thread only. */
  private Result check() {
    Result r;
    try {
      if (testKey == null) {
        testKey = TokenCalls.call("XksHealth", hsm::generateBackingKey);
      }
      Derivation derivation = TokenCalls.call("XksHealth", () -> hsm.derivationFor(testKey));
      byte[] salt = TokenCalls.call("XksHealth", () -> hsm.generateRandom(Hsm.SALT_LENGTH));
      byte[] iv = TokenCalls.call("XksHealth", () -> hsm.generateRandom(Hsm.IV_LENGTH));
      byte[] probe = TokenCalls.call("XksHealth", () -> hsm.generateRandom(32));
      byte[] aad = "p11kms xks health".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      byte[] sealed =
          TokenCalls.call(
              "XksHealth", () -> hsm.encrypt(testKey, derivation, salt, iv, aad, probe));
      byte[] opened =
          TokenCalls.call(
              "XksHealth", () -> hsm.decrypt(testKey, derivation, salt, iv, aad, sealed));
      if (!MessageDigest.isEqual(probe, opened)) {
        throw new KmsException(KmsError.INTERNAL, "The token's AES-GCM did not round-trip");
      }
      r = new Result(clock.instant(), null);
    } catch (KmsException e) {
      log.warn("XKS health check failed: {}", e.getMessage());
      r = new Result(clock.instant(), e);
    } catch (RuntimeException e) {
      log.warn("XKS health check failed", e);
      r = new Result(clock.instant(), new KmsException(KmsError.INTERNAL, "Internal error"));
    }
    last = r;
    return r;
  }

  @Override
  public void close() {
    worker.shutdownNow();
  }
}
