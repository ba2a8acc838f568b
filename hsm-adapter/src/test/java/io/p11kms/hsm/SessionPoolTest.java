package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;

/** The session pool's bounds: a full pool fails fast, a dead session is replaced. */
class SessionPoolTest {
  private static SoftHsmTestToken token;
  private static Pkcs11Hsm hsm;

  @BeforeAll
  static void openToken() {
    token = SoftHsmTestToken.create();
    HsmConfig base = token.hsmConfig();
    hsm =
        Pkcs11Hsm.open(
            new HsmConfig(
                base.modulePath(), base.tokenLabel(), base.userPin(), 1, Duration.ofMillis(200)));
  }

  @AfterAll
  static void closeToken() {
    if (hsm != null) {
      hsm.close();
    }
    if (token != null) {
      token.close();
    }
  }

  @Test
  void borrow_exhaustedPool_failsUnavailableWithoutHanging() throws Exception {
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService executor = Executors.newSingleThreadExecutor();
    try {
      Future<?> holder =
          executor.submit(
              () ->
                  hsm.withSessionForTest(
                      session -> {
                        held.countDown();
                        awaitQuietly(release);
                        return null;
                      }));
      assertThat(held.await(5, TimeUnit.SECONDS)).isTrue();

      assertTimeoutPreemptively(
          Duration.ofSeconds(3),
          () ->
              assertThatThrownBy(() -> hsm.generateRandom(16))
                  .isInstanceOf(HsmUnavailableException.class));

      release.countDown();
      holder.get(5, TimeUnit.SECONDS);
      assertThat(hsm.generateRandom(16)).hasSize(16);
    } finally {
      release.countDown();
      executor.shutdownNow();
    }
  }

  @Test
  void execute_deadSession_isReplaced() throws Exception {
    assertThatThrownBy(
            () ->
                hsm.withSessionForTest(
                    session -> {
                      session.closeSession();
                      return session.generateRandom(1);
                    }))
        .isInstanceOfSatisfying(
            PKCS11Exception.class,
            e ->
                assertThat(e.getErrorCode())
                    .isIn(
                        PKCS11Constants.CKR_SESSION_HANDLE_INVALID,
                        PKCS11Constants.CKR_SESSION_CLOSED));

    // The pool holds one session; the dead one must not come back.
    assertThat(hsm.generateRandom(8)).hasSize(8);
    WrappedKey key = hsm.generateBackingKey();
    assertThat(key.ekt()).hasSize(40);
  }

  @Test
  void close_isIdempotentAndLaterCallsAreUnavailable() {
    HsmConfig config = token.hsmConfig();
    Pkcs11Hsm other = Pkcs11Hsm.open(config);
    other.close();
    other.close();
    assertThatThrownBy(() -> other.generateRandom(4)).isInstanceOf(HsmUnavailableException.class);
    // The shared module is still initialized for the adapter that is open.
    assertThat(hsm.generateRandom(4)).hasSize(4);
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
