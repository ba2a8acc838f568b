package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_DEVICE_ERROR;
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

/**
 * The asymmetric and HMAC operations take the same token path as the rest: injected faults are
 * recovered from and retried once, the asymmetric domain key handle is found again after a reset,
 * and the call deadline applies.
 */
class AsymmetricRecoveryTest {
  private static final byte[] MESSAGE = "recover me".getBytes(StandardCharsets.UTF_8);

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

  private void open(HsmConfig config) {
    hsm = Pkcs11Hsm.open(config, faults);
  }

  @Test
  void signDigest_afterALostLogin_logsInAgainAndSigns() {
    open(token.hsmConfig());
    WrappedKeyPair pair = hsm.generateKeyPair(KeyPairType.EC_P256, PrivateKeyUsage.SIGN);
    long logins = faults.count("C_Login");
    faults.failNext("C_Sign", CKR_USER_NOT_LOGGED_IN);

    byte[] signature =
        hsm.signDigest(
            pair.privateKey(),
            KeyPairType.EC_P256,
            SignatureScheme.ECDSA,
            DigestAlgorithm.SHA_256,
            new byte[32]);

    assertThat(signature[0]).isEqualTo((byte) 0x30);
    assertThat(faults.count("C_Login")).isEqualTo(logins + 1);
  }

  @Test
  void generateKeyPair_retriedAfterAFaultAtWrap_returnsOneUsableKeyAndLeavesNoObject() {
    open(token.hsmConfig().withReopenInterval(Duration.ofMillis(100)));
    hsm.supportedKeyPairTypes(); // the probe generates a secp256k1 pair of its own
    int before = hsm.visibleObjectCount();
    long generates = faults.count("C_GenerateKeyPair");
    faults.failNext("C_WrapKey", CKR_DEVICE_ERROR);

    WrappedKeyPair pair = hsm.generateKeyPair(KeyPairType.EC_P256, PrivateKeyUsage.SIGN);

    assertThat(faults.count("C_GenerateKeyPair")).isEqualTo(generates + 2);
    assertThat(
            hsm.signDigest(
                pair.privateKey(),
                KeyPairType.EC_P256,
                SignatureScheme.ECDSA,
                DigestAlgorithm.SHA_256,
                new byte[32]))
        .isNotEmpty();
    assertThat(hsm.visibleObjectCount()).isEqualTo(before);
  }

  @Test
  void generateMac_staleAsymmetricDomainKeyHandle_findsItAgainAndRetries() {
    open(token.hsmConfig());
    WrappedKey key = hsm.generateHmacKey(HmacType.HMAC_SHA256);
    byte[] mac = hsm.generateMac(key, HmacType.HMAC_SHA256, MESSAGE);
    long resets = faults.count("C_CloseAllSessions");
    faults.failNext("C_UnwrapKey", CKR_UNWRAPPING_KEY_HANDLE_INVALID);

    assertThat(hsm.generateMac(key, HmacType.HMAC_SHA256, MESSAGE)).isEqualTo(mac);
    assertThat(faults.count("C_CloseAllSessions")).isEqualTo(resets + 1);
  }

  @Test
  void aHungSign_failsAtTheCallDeadlineAsUnavailable() throws InterruptedException {
    open(token.hsmConfig().withCallTimeout(Duration.ofMillis(300)));
    WrappedKey key = hsm.generateHmacKey(HmacType.HMAC_SHA256);
    faults.delayNext("C_Sign", Duration.ofMillis(1_500));

    assertThatThrownBy(() -> hsm.generateMac(key, HmacType.HMAC_SHA256, MESSAGE))
        .isInstanceOf(HsmUnavailableException.class)
        .hasMessageContaining("did not finish within 300 ms");
    // Let the abandoned call return, so that its session (and the key unwrapped in it) is closed
    // before the adapter is.
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (hsm.sessionsInUse() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(hsm.sessionsInUse()).isZero();
  }
}
