package io.p11kms.hsm.session;

import static io.p11kms.hsm.SmallSeals.decrypt;
import static io.p11kms.hsm.SmallSeals.encrypt;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.HsmConfig;
import io.p11kms.hsm.HsmDecryptionFailedException;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.StandbyLibraryTest;
import io.p11kms.hsm.TokenCallInterceptor;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xipki.pkcs11.wrapper.PKCS11Constants;

/**
 * The library is initialized afresh after its bound of objects, between calls, and the adapter goes
 * on as before: same domain keys, old ciphertexts decrypt, no object left behind; never under a
 * call still running. By default through the standby instance ({@link StandbyLibraryTest} has its
 * own cases); where no standby loads, in place, and then never while another user shares the
 * library.
 */
class LibraryRecyclingTest {
  private static final int BOUND = 1_000;
  private static final StandbyLibrary.Loader NO_STANDBY =
      path -> {
        throw new IOException("no standby in this test");
      };
  private static SoftHsmTestToken token;

  @BeforeAll
  static void createToken() {
    token = SoftHsmTestToken.create();
  }

  @AfterAll
  static void deleteToken() {
    token.close();
  }

  @Test
  void pastTheBound_theProbeRecyclesTheLibrary_andEverythingGoesOn() {
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(token.hsmConfig().withLibraryRecycle(BOUND))) {
      int before = hsm.visibleObjectCount();
      WrappedKey key = hsm.generateBackingKey();
      byte[][] sealed = encrypt(hsm, key, 10);
      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.libraryRecycles()).isZero();

      encrypt(hsm, key, BOUND);
      assertThat(hsm.cachedBackingKeyCount()).isEqualTo(1);
      assertThat(hsm.isHealthy()).isTrue();

      assertThat(hsm.libraryRecycles()).isEqualTo(1);
      // The cached backing key was unwrapped again on the new instance; the token objects stayed.
      assertThat(hsm.cachedBackingKeyCount()).isEqualTo(1);
      assertThat(hsm.visibleObjectCount()).isEqualTo(before + 1);
      assertThat(hsm.currentDomainKeyGeneration()).isEqualTo(1);
      assertThat(decrypt(hsm, key, sealed)).containsExactly(7, 8);
      WrappedKey other = hsm.generateBackingKey();
      assertThatThrownBy(() -> decrypt(hsm, key, encrypt(hsm, other, 1)))
          .as("another key's ciphertext still fails to decrypt")
          .isInstanceOf(HsmDecryptionFailedException.class);
    }
  }

  @Test
  void pastTheBound_aKeyMadeAfterTheRecycle_andOneMadeBefore_bothServe() {
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(token.hsmConfig().withLibraryRecycle(BOUND))) {
      int before = hsm.visibleObjectCount();
      WrappedKey old = hsm.generateBackingKey();
      byte[][] sealed = encrypt(hsm, old, BOUND);
      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.libraryRecycles()).isEqualTo(1);

      WrappedKey fresh = hsm.generateBackingKey();
      assertThat(decrypt(hsm, fresh, encrypt(hsm, fresh, 1))).containsExactly(7, 8);
      assertThat(decrypt(hsm, old, sealed)).containsExactly(7, 8);
      hsm.evictCachedBackingKeys();
      assertThat(hsm.visibleObjectCount()).isEqualTo(before);
    }
  }

  @Test
  void belowTheBound_orWithRecyclingOff_nothingHappens() {
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(token.hsmConfig().withLibraryRecycle(0))) {
      encrypt(hsm, hsm.generateBackingKey(), BOUND + 10);
      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.libraryRecycles()).isZero();
      assertThat(hsm.cachedBackingKeyCount()).isEqualTo(1);
    }
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(token.hsmConfig().withLibraryRecycle(BOUND))) {
      encrypt(hsm, hsm.generateBackingKey(), BOUND / 2);
      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.libraryRecycles()).isZero();
    }
  }

  @Test
  void inPlace_anotherUserOfTheLibrary_noRecycle_bothKeepWorking_thenOneABoundAfterItLeft() {
    try (Pkcs11Hsm first =
        Pkcs11Hsm.open(
            token.hsmConfig().withLibraryRecycle(BOUND), TokenCallInterceptor.NONE, NO_STANDBY)) {
      WrappedKey key = first.generateBackingKey();
      byte[][] sealed;
      try (Pkcs11Hsm second = Pkcs11Hsm.open(token.hsmConfig())) {
        sealed = encrypt(first, key, BOUND + 10);
        assertThat(first.isHealthy()).isTrue();
        assertThat(first.libraryRecycles()).isZero();
        assertThat(decrypt(second, key, sealed)).containsExactly(7, 8);
        assertThat(decrypt(first, key, sealed)).containsExactly(7, 8);
      }
      // Postponed by a bound, not retried at every probe.
      assertThat(first.isHealthy()).isTrue();
      assertThat(first.libraryRecycles()).isZero();
      encrypt(first, key, BOUND);
      assertThat(first.isHealthy()).isTrue();
      assertThat(first.libraryRecycles()).isEqualTo(1);
      assertThat(decrypt(first, key, sealed)).containsExactly(7, 8);
    }
  }

  @Test
  void aCallStillRunning_noRecycleUnderIt_doneAtTheNextProbeAfterItEnds() throws Exception {
    AtomicBoolean slow = new AtomicBoolean();
    CountDownLatch inCall = new CountDownLatch(1);
    TokenCallInterceptor interceptor =
        function -> {
          if (function.equals("C_Encrypt") && slow.get()) {
            inCall.countDown();
            try {
              Thread.sleep(1_000);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          return 0L;
        };
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(token.hsmConfig().withLibraryRecycle(BOUND), interceptor)) {
      WrappedKey key = hsm.generateBackingKey();
      encrypt(hsm, key, BOUND);
      slow.set(true);
      CompletableFuture<byte[][]> running =
          CompletableFuture.supplyAsync(() -> encrypt(hsm, key, 1));
      assertThat(inCall.await(5, TimeUnit.SECONDS)).isTrue();
      slow.set(false);

      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.libraryRecycles()).isZero();

      byte[][] sealed = running.get(5, TimeUnit.SECONDS);
      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.libraryRecycles()).isEqualTo(1);
      assertThat(decrypt(hsm, key, sealed)).containsExactly(7, 8);
    }
  }

  @Test
  void inPlace_aRecycleThatFails_theNextCallRecoversAsFromADeviceFault_thenOneABoundLater() {
    AtomicBoolean failFinalize = new AtomicBoolean(true);
    TokenCallInterceptor interceptor =
        function ->
            function.equals("C_Finalize") && failFinalize.get()
                ? PKCS11Constants.CKR_GENERAL_ERROR
                : 0L;
    try (Pkcs11Hsm hsm =
        Pkcs11Hsm.open(token.hsmConfig().withLibraryRecycle(BOUND), interceptor, NO_STANDBY)) {
      int before = hsm.visibleObjectCount();
      WrappedKey key = hsm.generateBackingKey();
      byte[][] sealed = encrypt(hsm, key, BOUND);

      hsm.isHealthy();
      assertThat(hsm.libraryRecycles()).isZero();
      failFinalize.set(false);
      // The connection reopens on the next call's failure, then serves as before.
      assertThat(decrypt(hsm, key, sealed)).containsExactly(7, 8);
      // The next recycle is due a bound later, not at the next probe.
      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.libraryRecycles()).isZero();

      encrypt(hsm, key, BOUND);
      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.libraryRecycles()).isEqualTo(1);
      assertThat(decrypt(hsm, key, sealed)).containsExactly(7, 8);
      hsm.evictCachedBackingKeys();
      assertThat(hsm.visibleObjectCount()).isEqualTo(before);
    }
  }

  @Test
  void bound_autoIsSetOnlyForSoftHsm() {
    assertThat(new LibraryRecycling(HsmConfig.LIBRARY_RECYCLE_AUTO, "SoftHSM  ", 0).bound())
        .isEqualTo(LibraryRecycling.SOFTHSM_BOUND);
    assertThat(new LibraryRecycling(HsmConfig.LIBRARY_RECYCLE_AUTO, "SafeNet", 0).bound()).isZero();
    assertThat(new LibraryRecycling(HsmConfig.LIBRARY_RECYCLE_AUTO, null, 0).bound()).isZero();
    assertThat(new LibraryRecycling(5_000, "SafeNet", 0).bound()).isEqualTo(5_000);
    assertThat(new LibraryRecycling(0, "SoftHSM", 0).bound()).isZero();

    LibraryRecycling recycling = new LibraryRecycling(5_000, "SoftHSM", 100);
    assertThat(recycling.due(5_099)).isFalse();
    assertThat(recycling.due(5_100)).isTrue();
    recycling.done(5_100);
    assertThat(recycling.due(10_099)).isFalse();
    assertThat(recycling.recycles()).isEqualTo(1);
  }
}
