package io.p11kms.hsm;

import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * How fast the asymmetric and HMAC operations run on one thread, off by default: {@code mvn -pl
 * hsm-adapter test -Dtest=AsymmetricThroughputTest -Dp11kms.bench=true}. Every operation unwraps
 * its key, uses it and destroys it (no cache for private keys). Prints; asserts nothing.
 */
@EnabledIfSystemProperty(named = "p11kms.bench", matches = "true")
class AsymmetricThroughputTest {

  @Test
  void operationsPerSecond() {
    try (SoftHsmTestToken token = SoftHsmTestToken.create();
        Pkcs11Hsm hsm = Pkcs11Hsm.open(token.hsmConfig())) {
      byte[] digest = new byte[32];
      for (KeyPairType type : new KeyPairType[] {KeyPairType.EC_P256, KeyPairType.RSA_2048}) {
        WrappedKeyPair pair = hsm.generateKeyPair(type, PrivateKeyUsage.SIGN);
        SignatureScheme scheme = type.isRsa() ? SignatureScheme.RSA_PSS : SignatureScheme.ECDSA;
        run(
            "signDigest " + type,
            500,
            () -> hsm.signDigest(pair.privateKey(), type, scheme, DigestAlgorithm.SHA_256, digest));
      }
      WrappedKey hmac = hsm.generateHmacKey(HmacType.HMAC_SHA256);
      run(
          "generateMac HMAC_SHA256",
          2_000,
          () -> hsm.generateMac(hmac, HmacType.HMAC_SHA256, digest));
      run(
          "generateKeyPair EC_P256",
          200,
          () -> hsm.generateKeyPair(KeyPairType.EC_P256, PrivateKeyUsage.SIGN));
      run(
          "generateKeyPair RSA_2048",
          10,
          () -> hsm.generateKeyPair(KeyPairType.RSA_2048, PrivateKeyUsage.SIGN));
      run(
          "generateKeyPair RSA_4096",
          3,
          () -> hsm.generateKeyPair(KeyPairType.RSA_4096, PrivateKeyUsage.SIGN));
      run("generateDataKeyPair EC_P256", 200, () -> hsm.generateDataKeyPair(KeyPairType.EC_P256));
    }
  }

  private static void run(String name, int count, Supplier<?> operation) {
    operation.get();
    long start = System.nanoTime();
    for (int i = 0; i < count; i++) {
      operation.get();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.printf(
        "%s: %.0f ops/s (%.1f ms each)%n", name, count / seconds, seconds * 1000 / count);
  }
}
