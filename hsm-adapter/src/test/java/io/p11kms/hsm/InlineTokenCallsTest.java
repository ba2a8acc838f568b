package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.testing.FaultInjector;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Token calls made inside {@link InlineTokenCalls#run} run on the caller's thread; a hung one
 * answers its caller at the deadline through another thread, and its late result is discarded.
 */
class InlineTokenCallsTest {
  private static final byte[] AAD = "aad".getBytes(StandardCharsets.UTF_8);
  private static final byte[] PLAINTEXT = "inline".getBytes(StandardCharsets.UTF_8);

  private static SoftHsmTestToken token;
  private final ExecutorService caller = Executors.newSingleThreadExecutor();
  private Pkcs11Hsm hsm;

  @BeforeAll
  static void createToken() {
    token = SoftHsmTestToken.create();
  }

  @AfterAll
  static void deleteToken() {
    token.close();
  }

  @AfterEach
  void closeAdapter() {
    caller.shutdownNow();
    if (hsm != null) {
      hsm.close();
    }
  }

  @Test
  void insideRun_callsRunOnTheCallersThread_outsideOnATokenWorker() {
    AtomicReference<String> encryptedOn = new AtomicReference<>();
    hsm =
        Pkcs11Hsm.open(
            token.hsmConfig(),
            function -> {
              if (function.equals("C_Encrypt")) {
                encryptedOn.set(Thread.currentThread().getName());
              }
              return 0L;
            });
    WrappedKey key = hsm.generateBackingKey();

    byte[] onWorker = encrypt(key);
    assertThat(encryptedOn.get()).startsWith("p11kms-token-");

    byte[] inline = InlineTokenCalls.run(() -> {}, () -> encrypt(key));
    assertThat(encryptedOn.get()).isEqualTo(Thread.currentThread().getName());
    assertThat(decrypt(key, inline)).isEqualTo(PLAINTEXT);
    assertThat(decrypt(key, onWorker)).isEqualTo(PLAINTEXT);
  }

  @Test
  void aHungInlineCall_answersAtTheDeadlineFromAnotherThread_thenFailsAndClosesItsSession()
      throws Exception {
    FaultInjector faults = new FaultInjector();
    hsm =
        Pkcs11Hsm.open(
            token
                .hsmConfig()
                .withCallTimeout(Duration.ofMillis(300))
                .withPool(1, Duration.ofMillis(200)),
            faults);
    WrappedKey key = hsm.generateBackingKey();
    assertThat(decrypt(key, encrypt(key))).isEqualTo(PLAINTEXT);
    hsm.evictCachedBackingKeys();
    int objects = hsm.visibleObjectCount();
    long opened = faults.count("C_OpenSession");
    // The fault outlasts the bound below by far, so that a loaded machine cannot blur the two.
    faults.delayNext("C_Encrypt", Duration.ofMillis(3000));

    AtomicInteger answers = new AtomicInteger();
    CompletableFuture<Thread> answeredOn = new CompletableFuture<>();
    long start = System.nanoTime();
    Future<byte[]> call =
        caller.submit(
            () ->
                InlineTokenCalls.run(
                    () -> {
                      answers.incrementAndGet();
                      answeredOn.complete(Thread.currentThread());
                    },
                    () -> encrypt(key)));

    Thread answerer = answeredOn.get(10, TimeUnit.SECONDS);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(2000));
    assertThat(answerer.getName()).startsWith("p11kms-token-");
    assertThat(call.isDone()).as("the call is still in the token").isFalse();

    assertThatThrownBy(() -> call.get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(HsmUnavailableException.class)
        .hasMessageContaining("did not finish within 300 ms");
    assertThat(answers).hasValue(1);

    // The late call's session was closed, not pooled; its derived key was destroyed.
    assertThat(decrypt(key, encrypt(key))).isEqualTo(PLAINTEXT);
    assertThat(faults.count("C_OpenSession")).isEqualTo(opened + 1);
    hsm.evictCachedBackingKeys();
    assertThat(hsm.visibleObjectCount()).isEqualTo(objects);
  }

  @Test
  void anInlineCallThatFinishesInTime_neverAnswersAtTheDeadline() throws Exception {
    hsm = Pkcs11Hsm.open(token.hsmConfig().withCallTimeout(Duration.ofMillis(200)));
    WrappedKey key = hsm.generateBackingKey();
    AtomicInteger answers = new AtomicInteger();

    byte[] ciphertext = InlineTokenCalls.run(answers::incrementAndGet, () -> encrypt(key));

    Thread.sleep(600);
    assertThat(answers).hasValue(0);
    assertThat(decrypt(key, ciphertext)).isEqualTo(PLAINTEXT);
  }

  private byte[] encrypt(WrappedKey key) {
    return hsm.encrypt(key, hsm.preferredDerivation(), salt(), iv(), AAD, PLAINTEXT);
  }

  private byte[] decrypt(WrappedKey key, byte[] ciphertext) {
    return hsm.decrypt(key, hsm.preferredDerivation(), salt(), iv(), AAD, ciphertext);
  }

  private static byte[] salt() {
    return new byte[Hsm.SALT_LENGTH];
  }

  private static byte[] iv() {
    return new byte[Hsm.IV_LENGTH];
  }
}
