package io.p11kms.hsm;

import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The adapter's encrypt with one key and with a random key out of many, off by default: {@code mvn
 * -pl hsm-adapter test -Dtest=KeyCountThroughputTest -Dp11kms.bench=true [-Dp11kms.bench.keys=N]}
 * (default 100,000 keys, made first: about 20 s). Prints operations per second and this JVM's CPU
 * per operation at 1 and 4 threads, twice; asserts nothing. With many more keys than the backing
 * key cache holds, nearly every request unwraps its key: this shows what that costs.
 */
@EnabledIfSystemProperty(named = "p11kms.bench", matches = "true")
class KeyCountThroughputTest {

  @Test
  void encrypt_oneKeyAgainstARandomKeyOfMany() throws Exception {
    int count = Integer.getInteger("p11kms.bench.keys", 100_000);
    int cache = Integer.getInteger("p11kms.bench.cache", HsmConfig.DEFAULT_CACHE_MAX_KEYS);
    try (SoftHsmTestToken token = SoftHsmTestToken.create();
        Pkcs11Hsm hsm =
            Pkcs11Hsm.open(token.hsmConfig().withCache(cache, HsmConfig.DEFAULT_CACHE_MAX_AGE))) {
      System.out.printf("backing key cache: %,d keys; VmRSS %s%n", cache, rss());
      WrappedKey[] keys = new WrappedKey[count];
      long start = System.nanoTime();
      for (int i = 0; i < count; i++) {
        keys[i] = hsm.generateBackingKey();
      }
      System.out.printf("made %,d keys in %.1f s%n", count, (System.nanoTime() - start) / 1e9);
      byte[] salt = hsm.generateRandom(Hsm.SALT_LENGTH);
      byte[] iv = hsm.generateRandom(Hsm.IV_LENGTH);
      byte[] aad = new byte[96];
      byte[] plaintext = new byte[256];
      Derivation derivation = hsm.preferredDerivation();
      for (int round = 0; round < 2; round++) {
        for (int inUse : new int[] {1, count}) {
          for (int threads : new int[] {1, 4}) {
            BenchLoop.run(
                String.format("%,d key(s)", inUse),
                threads,
                Integer.getInteger("p11kms.bench.ops", 40_000),
                () -> {
                  WrappedKey key = keys[ThreadLocalRandom.current().nextInt(inUse)];
                  hsm.encrypt(key, derivation, salt, iv, aad, plaintext);
                });
          }
          System.out.printf("after %,d key(s): VmRSS %s%n", inUse, rss());
        }
      }
    }
  }

  private static String rss() throws java.io.IOException {
    for (String line :
        java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return line.substring(6).trim();
      }
    }
    return "?";
  }
}
