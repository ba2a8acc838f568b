package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Real faults on SoftHSM2 while four threads encrypt and decrypt: every session closed, a logout,
 * the library finalized (and initialized again). Nothing comes out wrong, every failure is
 * "unavailable", nearly every request succeeds with one retry by the caller, and no object leaks.
 */
class RealFaultsTest {
  private static SoftHsmTestToken token;

  @BeforeAll
  static void createToken() {
    token = SoftHsmTestToken.create();
  }

  @AfterAll
  static void deleteToken() {
    token.close();
  }

  @ParameterizedTest
  @EnumSource(TokenFaults.Kind.class)
  void faultsUnderLoad_noWrongResultNoLeakAndRecovery(TokenFaults.Kind kind) throws Exception {
    HsmConfig config = token.hsmConfig().withReopenInterval(Duration.ofMillis(100));
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(config)) {
      TokenFaults faults = new TokenFaults(hsm);
      List<WrappedKey> keys = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        keys.add(hsm.generateBackingKey());
      }
      int before = hsm.visibleObjectCount();
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong ok = new AtomicLong();
      AtomicLong retried = new AtomicLong();
      AtomicLong failed = new AtomicLong();
      AtomicLong wrong = new AtomicLong();
      List<Throwable> unexpected = new ArrayList<>();
      ExecutorService clients = Executors.newFixedThreadPool(4);
      List<Future<?>> running = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        running.add(
            clients.submit(
                () -> {
                  while (!stop.get()) {
                    WrappedKey key = keys.get(ThreadLocalRandom.current().nextInt(keys.size()));
                    byte[] plaintext = ByteBuffer.allocate(8).putLong(ok.get()).array();
                    try {
                      byte[] back = withOneRetry(() -> roundTrip(hsm, key, plaintext), retried);
                      if (Arrays.equals(back, plaintext)) {
                        ok.incrementAndGet();
                      } else {
                        wrong.incrementAndGet();
                      }
                    } catch (HsmUnavailableException e) {
                      failed.incrementAndGet();
                    } catch (RuntimeException e) {
                      synchronized (unexpected) {
                        unexpected.add(e);
                      }
                    }
                  }
                }));
      }
      for (int i = 0; i < 8; i++) {
        Thread.sleep(250);
        faults.inject(kind);
      }
      Thread.sleep(250);
      stop.set(true);
      for (Future<?> f : running) {
        f.get(30, TimeUnit.SECONDS);
      }
      clients.shutdown();
      System.out.printf(
          "%s: %d ok, %d retried, %d failed after a retry, %d wrong%n",
          kind, ok.get(), retried.get(), failed.get(), wrong.get());

      assertThat(unexpected).isEmpty();
      assertThat(wrong.get()).isZero();
      assertThat(ok.get()).isGreaterThan(100);
      assertThat(failed.get()).isLessThanOrEqualTo((ok.get() + failed.get()) / 100);
      assertThat(hsm.isHealthy()).isTrue();
      for (WrappedKey key : keys) {
        assertThat(roundTrip(hsm, key, new byte[] {1})).containsExactly(1);
      }
      hsm.evictCachedBackingKeys();
      assertThat(hsm.visibleObjectCount()).isEqualTo(before);
    }
  }

  private static byte[] roundTrip(Pkcs11Hsm hsm, WrappedKey key, byte[] plaintext) {
    byte[] salt = new byte[Hsm.SALT_LENGTH];
    byte[] iv = new byte[Hsm.IV_LENGTH];
    ThreadLocalRandom.current().nextBytes(salt);
    ThreadLocalRandom.current().nextBytes(iv);
    Derivation derivation = hsm.preferredDerivation();
    byte[] ciphertext = hsm.encrypt(key, derivation, salt, iv, salt, plaintext);
    return hsm.decrypt(key, derivation, salt, iv, salt, ciphertext);
  }

  private static <T> T withOneRetry(java.util.function.Supplier<T> call, AtomicLong retried) {
    try {
      return call.get();
    } catch (HsmUnavailableException e) {
      retried.incrementAndGet();
      try {
        Thread.sleep(50);
      } catch (InterruptedException interrupted) {
        Thread.currentThread().interrupt();
      }
      return call.get();
    }
  }
}
