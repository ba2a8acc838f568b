package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_CRYPTOKI_NOT_INITIALIZED;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_DEVICE_ERROR;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_DEVICE_REMOVED;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_GENERAL_ERROR;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_KEY_HANDLE_INVALID;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_SESSION_CLOSED;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_SESSION_HANDLE_INVALID;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_TOKEN_NOT_PRESENT;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_UNWRAPPING_KEY_HANDLE_INVALID;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_USER_NOT_LOGGED_IN;

import io.p11kms.hsm.testing.FaultInjector;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each recovery path, driven by CKR codes injected in front of chosen PKCS#11 calls: the request
 * succeeds after one recovery and one retry, and the recovery is the one its code calls for.
 */
class RecoveryTest {
  private static final byte[] AAD = "aad".getBytes(StandardCharsets.UTF_8);
  private static final byte[] PLAINTEXT = "recover me".getBytes(StandardCharsets.UTF_8);

  private static SoftHsmTestToken token;
  private final FaultInjector faults = new FaultInjector();
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
    if (hsm != null) {
      hsm.close();
    }
  }

  private Pkcs11Hsm open(HsmConfig config) {
    hsm = Pkcs11Hsm.open(config, faults);
    return hsm;
  }

  private Pkcs11Hsm open() {
    return open(token.hsmConfig().withReopenInterval(Duration.ofMillis(100)));
  }

  private static byte[] salt() {
    return new byte[Hsm.SALT_LENGTH];
  }

  private static byte[] iv() {
    return new byte[Hsm.IV_LENGTH];
  }

  private byte[] roundTrip(WrappedKey key) {
    byte[] ciphertext = hsm.encrypt(key, hsm.preferredDerivation(), salt(), iv(), AAD, PLAINTEXT);
    return hsm.decrypt(key, hsm.preferredDerivation(), salt(), iv(), AAD, ciphertext);
  }

  @Test
  void userNotLoggedIn_logsInAgainAndRetries() {
    open();
    WrappedKey key = hsm.generateBackingKey();
    long logins = faults.count("C_Login");
    long resets = faults.count("C_CloseAllSessions");
    faults.failNext("C_Encrypt", CKR_USER_NOT_LOGGED_IN);

    assertThat(roundTrip(key)).isEqualTo(PLAINTEXT);
    assertThat(faults.count("C_Login")).isEqualTo(logins + 1);
    assertThat(faults.count("C_CloseAllSessions")).isEqualTo(resets);
  }

  @ParameterizedTest
  @ValueSource(longs = {CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED, CKR_KEY_HANDLE_INVALID})
  void staleSessionOrHandle_resetsSessionsAndRetries(long code) {
    open();
    WrappedKey key = hsm.generateBackingKey();
    roundTrip(key);
    assertThat(hsm.cachedBackingKeyCount()).isEqualTo(1);
    long resets = faults.count("C_CloseAllSessions");
    long unwraps = faults.count("C_UnwrapKey");
    faults.failNext("C_Encrypt", code);

    assertThat(roundTrip(key)).isEqualTo(PLAINTEXT);
    assertThat(faults.count("C_CloseAllSessions")).isEqualTo(resets + 1);
    // The cache did not survive the reset: the backing key was unwrapped again.
    assertThat(faults.count("C_UnwrapKey")).isEqualTo(unwraps + 1);
    assertThat(faults.count("C_Initialize")).isZero();
  }

  @ParameterizedTest
  @ValueSource(
      longs = {
        CKR_DEVICE_ERROR,
        CKR_DEVICE_REMOVED,
        CKR_TOKEN_NOT_PRESENT,
        CKR_CRYPTOKI_NOT_INITIALIZED
      })
  void deviceFault_reopensTheTokenFindsKeysByLabelAndRetries(long code) {
    open();
    WrappedKey key = hsm.generateBackingKey();
    long reopens = faults.count("C_Initialize");
    long finds = faults.count("C_FindObjects");
    faults.failNext("C_Encrypt", code);

    assertThat(roundTrip(key)).isEqualTo(PLAINTEXT);
    assertThat(faults.count("C_Initialize")).isEqualTo(reopens + 1);
    assertThat(faults.count("C_FindObjects")).isGreaterThan(finds);
  }

  @Test
  void deviceFault_reopensAtMostOncePerInterval() throws Exception {
    open(token.hsmConfig().withReopenInterval(Duration.ofMillis(500)));
    WrappedKey key = hsm.generateBackingKey();
    faults.failNext("C_Encrypt", CKR_DEVICE_ERROR, 2);

    // The first failure reopens; the retry fails again, and a second reopen must wait.
    assertThatThrownBy(() -> roundTrip(key)).isInstanceOf(HsmUnavailableException.class);
    assertThat(faults.count("C_Initialize")).isEqualTo(1);
    assertThatThrownBy(() -> hsm.generateRandom(8)).isInstanceOf(HsmUnavailableException.class);
    assertThat(faults.count("C_Initialize")).isEqualTo(1);

    Thread.sleep(600);
    assertThat(roundTrip(key)).isEqualTo(PLAINTEXT);
    assertThat(faults.count("C_Initialize")).isEqualTo(2);
  }

  @Test
  void persistentFault_failsUnavailableAfterOneRetry() {
    open();
    WrappedKey key = hsm.generateBackingKey();
    long encrypts = faults.count("C_Encrypt");
    faults.failAlways("C_Encrypt", CKR_SESSION_HANDLE_INVALID);

    assertThatThrownBy(
            () -> hsm.encrypt(key, hsm.preferredDerivation(), salt(), iv(), AAD, PLAINTEXT))
        .isInstanceOf(HsmUnavailableException.class)
        .hasMessage("C_Encrypt failed: CKR_SESSION_HANDLE_INVALID");
    assertThat(faults.count("C_Encrypt")).isEqualTo(encrypts + 2);

    faults.clear();
    assertThat(roundTrip(key)).isEqualTo(PLAINTEXT);
  }

  @Test
  void otherFailure_isNotRetried() {
    open();
    WrappedKey key = hsm.generateBackingKey();
    long encrypts = faults.count("C_Encrypt");
    faults.failNext("C_Encrypt", CKR_GENERAL_ERROR);

    assertThatThrownBy(
            () -> hsm.encrypt(key, hsm.preferredDerivation(), salt(), iv(), AAD, PLAINTEXT))
        .isExactlyInstanceOf(HsmException.class);
    assertThat(faults.count("C_Encrypt")).isEqualTo(encrypts + 1);
  }

  @Test
  void decrypt_staleDomainKeyHandle_isRetriedNotReportedAsTampering() {
    open(token.hsmConfig().withCache(0, Duration.ofMinutes(1)));
    WrappedKey key = hsm.generateBackingKey();
    byte[] ciphertext = hsm.encrypt(key, hsm.preferredDerivation(), salt(), iv(), AAD, PLAINTEXT);
    faults.failNext("C_UnwrapKey", CKR_UNWRAPPING_KEY_HANDLE_INVALID);

    assertThat(hsm.decrypt(key, hsm.preferredDerivation(), salt(), iv(), AAD, ciphertext))
        .isEqualTo(PLAINTEXT);
  }

  @Test
  void generateBackingKey_retriedAfterAFaultAtWrap_returnsOneUsableKeyAndLeavesNoObject() {
    open();
    int before = hsm.visibleObjectCount();
    long generates = faults.count("C_GenerateKey");
    faults.failNext("C_WrapKey", CKR_DEVICE_ERROR);

    WrappedKey key = hsm.generateBackingKey();

    // Two HBKs were generated; the first never left the token and died with its session.
    assertThat(faults.count("C_GenerateKey")).isEqualTo(generates + 2);
    assertThat(roundTrip(key)).isEqualTo(PLAINTEXT);
    hsm.evictCachedBackingKeys();
    assertThat(hsm.visibleObjectCount()).isEqualTo(before);
  }

  @Test
  void slowCall_releasesTheCallerAtTheDeadlineAndItsSessionIsDiscarded() throws Exception {
    HsmConfig base = token.hsmConfig().withCallTimeout(Duration.ofMillis(300));
    open(base.withPool(1, Duration.ofMillis(200)));
    WrappedKey key = hsm.generateBackingKey();
    roundTrip(key);
    long opened = faults.count("C_OpenSession");
    // The fault outlasts the bound below by far, so that a loaded machine cannot blur the two.
    faults.delayNext("C_Encrypt", Duration.ofMillis(3000));

    long start = System.nanoTime();
    assertThatThrownBy(
            () -> hsm.encrypt(key, hsm.preferredDerivation(), salt(), iv(), AAD, PLAINTEXT))
        .isInstanceOf(HsmUnavailableException.class)
        .hasMessageContaining("did not finish within 300 ms");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(2000));

    // The slow call still holds the only session: the pool is exhausted, not hung.
    assertThatThrownBy(() -> hsm.generateRandom(8)).isInstanceOf(HsmUnavailableException.class);

    Thread.sleep(3000);
    assertThat(roundTrip(key)).isEqualTo(PLAINTEXT);
    // The session of the slow call was closed when it returned; a new one was opened.
    assertThat(faults.count("C_OpenSession")).isEqualTo(opened + 1);
  }

  @Test
  void isHealthy_falseWhileTheTokenFailsTrueAfterRecovery() throws Exception {
    open();
    assertThat(hsm.isHealthy()).isTrue();
    faults.failAlways("*", CKR_DEVICE_ERROR);
    assertThat(hsm.isHealthy()).isFalse();
    assertThat(hsm.isHealthy()).isFalse();

    faults.clear();
    Thread.sleep(150);
    assertThat(hsm.isHealthy()).isTrue();
    assertThat(hsm.generateRandom(8)).hasSize(8);
  }
}
