package io.p11kms.hsm;

import io.p11kms.hsm.testing.NssTestToken;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import io.p11kms.hsm.testing.TestToken;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * A quick throughput check of the hot path, off by default: {@code mvn -pl hsm-adapter test
 * -Dtest=ThroughputTest -Dp11kms.bench=true}. Runs once with the backing key cache off (unwrap +
 * AES-GCM + destroy per request) and once with it on (AES-GCM under the cached backing key). Prints
 * operations per second; asserts nothing. {@code -Dp11kms.bench.token=nss} runs it on an NSS
 * softoken token instead of SoftHSM2.
 */
@EnabledIfSystemProperty(named = "p11kms.bench", matches = "true")
class ThroughputTest {

  @Test
  void encryptAndDecrypt_operationsPerSecond() throws Exception {
    boolean nss = "nss".equals(System.getProperty("p11kms.bench.token"));
    try (TestToken token = nss ? NssTestToken.create() : SoftHsmTestToken.create()) {
      HsmConfig config = token.hsmConfig();
      System.out.println("-- token: " + (nss ? "NSS softoken" : "SoftHSM2"));
      System.out.println("-- backing key cache off");
      measure(config.withCache(0, config.cacheMaxAge()));
      System.out.println("-- backing key cache on (" + config.cacheMaxKeys() + " keys)");
      measure(config);
    }
  }

  private static void measure(HsmConfig config) throws Exception {
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(config)) {
      WrappedKey key = hsm.generateBackingKey();
      byte[] salt = hsm.generateRandom(Hsm.SALT_LENGTH);
      byte[] iv = hsm.generateRandom(Hsm.IV_LENGTH);
      byte[] aad = new byte[64];
      byte[] plaintext = new byte[256];
      Derivation derivation = hsm.preferredDerivation();
      byte[] ciphertext = hsm.encrypt(key, derivation, salt, iv, aad, plaintext);
      for (int threads : new int[] {1, 2, 4}) {
        run("encrypt", threads, () -> hsm.encrypt(key, derivation, salt, iv, aad, plaintext));
        run("decrypt", threads, () -> hsm.decrypt(key, derivation, salt, iv, aad, ciphertext));
      }
      run("generateBackingKey", 1, hsm::generateBackingKey);
    }
  }

  private static void run(String name, int threads, Runnable operation) throws Exception {
    for (int i = 0; i < 2_000; i++) {
      operation.run();
    }
    BenchLoop.run(name, threads, 20_000, operation);
  }
}
