package io.p11kms.hsm;

import static io.p11kms.hsm.SmallSeals.decrypt;
import static io.p11kms.hsm.SmallSeals.encrypt;
import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xipki.pkcs11.wrapper.PKCS11Constants;

/**
 * A library recycle switches the connection to a standby instance of the library (a private copy)
 * and finalizes the instance it left: calls go on throughout, nothing is left in either instance,
 * and a standby that fails to open or an instance that fails to finalize costs no call.
 */
public class StandbyLibraryTest {
  private static final int BOUND = 1_000;
  private static SoftHsmTestToken token;

  @BeforeAll
  static void createToken() {
    token = SoftHsmTestToken.create();
  }

  @AfterAll
  static void deleteToken() {
    token.close();
  }

  private static Pkcs11Hsm open(TokenCallInterceptor interceptor) {
    return Pkcs11Hsm.open(token.hsmConfig().withLibraryRecycle(BOUND), interceptor);
  }

  /** Records the PKCS#11 functions called while on, and fails those named in {@code failing}. */
  private static final class Recorder implements TokenCallInterceptor {
    final List<String> seen = Collections.synchronizedList(new ArrayList<>());
    final Set<String> failing = ConcurrentHashMap.newKeySet();
    final AtomicInteger failed = new AtomicInteger();
    volatile boolean on;

    @Override
    public long beforeCall(String function) {
      if (on) {
        seen.add(function);
      }
      if (failing.contains(function)) {
        failed.incrementAndGet();
        return PKCS11Constants.CKR_GENERAL_ERROR;
      }
      return 0L;
    }

    List<String> take() {
      List<String> copy = List.copyOf(seen);
      seen.clear();
      return copy;
    }
  }

  private static Set<Path> moduleCopies() throws IOException {
    try (Stream<Path> entries = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return entries
          .filter(p -> p.getFileName().toString().startsWith("p11kms-module-"))
          .collect(Collectors.toSet());
    }
  }

  @Test
  void underLoad_callsGoOnThroughSeveralSwitches_noneFails_noObjectLeft() throws Exception {
    try (Pkcs11Hsm hsm = open(TokenCallInterceptor.NONE)) {
      int before = hsm.visibleObjectCount();
      WrappedKey key = hsm.generateBackingKey();
      AtomicBoolean stop = new AtomicBoolean();
      AtomicReference<Throwable> failure = new AtomicReference<>();
      AtomicInteger served = new AtomicInteger();
      ExecutorService callers = Executors.newFixedThreadPool(4);
      for (int i = 0; i < 4; i++) {
        callers.execute(
            () -> {
              while (!stop.get()) {
                try {
                  assertThat(decrypt(hsm, key, encrypt(hsm, key, 1))).containsExactly(7, 8);
                  served.incrementAndGet();
                } catch (Throwable t) {
                  failure.compareAndSet(null, t);
                  return;
                }
              }
            });
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (hsm.libraryRecycles() < 4
          && failure.get() == null
          && System.nanoTime() - deadline < 0) {
        hsm.isHealthy();
        Thread.sleep(5);
      }
      stop.set(true);
      callers.shutdown();
      assertThat(callers.awaitTermination(30, TimeUnit.SECONDS)).isTrue();

      assertThat(failure.get()).as("a call failed during a switch").isNull();
      // Four switches: each instance was left, finalized and used again twice.
      assertThat(hsm.libraryRecycles()).isGreaterThanOrEqualTo(4);
      assertThat(served.get()).isGreaterThan(4 * BOUND / 2);
      hsm.evictCachedBackingKeys();
      assertThat(hsm.visibleObjectCount()).isEqualTo(before);
    }
  }

  @Test
  void theSwitch_logsInOnTheStandbyFirst_thenFinalizesTheInstanceLeft_andLeavesNoFile()
      throws Exception {
    Recorder recorder = new Recorder();
    Set<Path> copiesBefore = moduleCopies();
    try (Pkcs11Hsm hsm = open(recorder)) {
      WrappedKey key = hsm.generateBackingKey();
      byte[][] sealed = encrypt(hsm, key, BOUND);
      recorder.on = true;
      assertThat(hsm.isHealthy()).isTrue();
      recorder.on = false;

      assertThat(hsm.libraryRecycles()).isEqualTo(1);
      List<String> seen = recorder.take();
      assertThat(seen).containsSubsequence("C_Initialize", "C_Login", "C_FindObjects");
      assertThat(seen).last().isEqualTo("C_Finalize");
      assertThat(decrypt(hsm, key, sealed)).containsExactly(7, 8);
      assertThat(moduleCopies()).as("the copy's file and directory").isEqualTo(copiesBefore);
    }
  }

  @Test
  void anotherUserOfTheSharedInstance_keepsWorking_andOurObjectsLeaveItForGood() {
    try (Pkcs11Hsm first = open(TokenCallInterceptor.NONE);
        Pkcs11Hsm second = Pkcs11Hsm.open(token.hsmConfig())) {
      int shared = second.visibleObjectCount();
      WrappedKey key = first.generateBackingKey();
      byte[][] sealed = encrypt(first, key, BOUND);
      assertThat(second.visibleObjectCount())
          .as("first's cached backing key, seen in the shared instance")
          .isEqualTo(shared + 1);

      assertThat(first.isHealthy()).isTrue();

      assertThat(first.libraryRecycles()).isEqualTo(1);
      assertThat(second.visibleObjectCount()).isEqualTo(shared);
      assertThat(decrypt(second, key, sealed)).containsExactly(7, 8);
      assertThat(decrypt(first, key, sealed)).containsExactly(7, 8);

      // The shared instance left the rotation: two copies take turns, and first's cached keys
      // never come back to it.
      for (int switches = 2; switches <= 3; switches++) {
        encrypt(first, key, BOUND);
        assertThat(first.isHealthy()).isTrue();
        assertThat(first.libraryRecycles()).isEqualTo(switches);
        assertThat(decrypt(first, key, sealed)).containsExactly(7, 8);
        second.evictCachedBackingKeys();
        assertThat(second.visibleObjectCount()).isEqualTo(shared);
        assertThat(decrypt(second, key, sealed)).containsExactly(7, 8);
      }
    }
  }

  @Test
  void theSharedInstanceFailedToFinalize_andIsSharedWhenDueAgain_aCopyTakesItsPlace() {
    Recorder recorder = new Recorder();
    try (Pkcs11Hsm first = open(recorder)) {
      WrappedKey key = first.generateBackingKey();
      byte[][] sealed = encrypt(first, key, BOUND);
      recorder.failing.add("C_Finalize");
      assertThat(first.isHealthy()).isTrue();
      assertThat(first.libraryRecycles()).isEqualTo(1);
      recorder.failing.clear();

      try (Pkcs11Hsm second = Pkcs11Hsm.open(token.hsmConfig())) {
        int shared = second.visibleObjectCount();
        encrypt(first, key, BOUND);
        assertThat(first.isHealthy()).isTrue();
        assertThat(first.libraryRecycles()).isEqualTo(2);

        // first's backing key, cached again after the switch, is not in the shared instance.
        assertThat(decrypt(first, key, sealed)).containsExactly(7, 8);
        assertThat(first.cachedBackingKeyCount()).isEqualTo(1);
        assertThat(second.visibleObjectCount()).isEqualTo(shared);
        assertThat(decrypt(second, key, sealed)).containsExactly(7, 8);
      }
    }
  }

  @Test
  void aStandbyThatFailsToOpen_callsGoOnWhereTheyAre_andTheNextTryIsABoundLater() {
    Recorder recorder = new Recorder();
    try (Pkcs11Hsm hsm = open(recorder)) {
      int before = hsm.visibleObjectCount();
      WrappedKey key = hsm.generateBackingKey();
      byte[][] sealed = encrypt(hsm, key, BOUND);
      recorder.failing.add("C_Login");

      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.isHealthy()).isTrue();

      assertThat(hsm.libraryRecycles()).isZero();
      assertThat(recorder.failed.get()).as("tried once, not at every probe").isEqualTo(1);
      assertThat(decrypt(hsm, key, sealed)).containsExactly(7, 8);
      recorder.failing.clear();
      encrypt(hsm, key, BOUND);
      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.libraryRecycles()).isEqualTo(1);
      assertThat(decrypt(hsm, key, sealed)).containsExactly(7, 8);
      hsm.evictCachedBackingKeys();
      assertThat(hsm.visibleObjectCount()).isEqualTo(before);
    }
  }

  @Test
  void anInstanceThatFailsToFinalize_callsGoOn_andItIsFinalizedBeforeItsNextUse() {
    Recorder recorder = new Recorder();
    try (Pkcs11Hsm hsm = open(recorder)) {
      int before = hsm.visibleObjectCount();
      WrappedKey key = hsm.generateBackingKey();
      byte[][] sealed = encrypt(hsm, key, BOUND);
      recorder.failing.add("C_Finalize");

      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.libraryRecycles()).isEqualTo(1);
      assertThat(recorder.failed.get()).isEqualTo(1);
      recorder.failing.clear();
      assertThat(decrypt(hsm, key, sealed)).containsExactly(7, 8);

      encrypt(hsm, key, BOUND);
      recorder.on = true;
      assertThat(hsm.isHealthy()).isTrue();
      recorder.on = false;
      assertThat(hsm.libraryRecycles()).isEqualTo(2);
      // Back on the instance that failed: finalized first, then logged in; then the copy left.
      assertThat(recorder.take()).containsSubsequence("C_Finalize", "C_Login", "C_Finalize");
      assertThat(decrypt(hsm, key, sealed)).containsExactly(7, 8);
      hsm.evictCachedBackingKeys();
      assertThat(hsm.visibleObjectCount()).isEqualTo(before);
    }
  }
}
