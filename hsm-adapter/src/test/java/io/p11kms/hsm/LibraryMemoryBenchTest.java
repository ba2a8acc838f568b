package io.p11kms.hsm;

import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * What the library keeps of destroyed objects, off by default: {@code mvn -pl hsm-adapter test
 * -Dtest=LibraryMemoryBenchTest -Dp11kms.bench=true}. Runs 8 rounds of 100,000 encrypts (one
 * derived key made and destroyed each) with library recycling off, then with a bound of 200,000
 * objects and a health probe after each round; prints this JVM's resident memory after each round.
 * Asserts nothing: resident memory is the process's, and the heap moves it too.
 */
@EnabledIfSystemProperty(named = "p11kms.bench", matches = "true")
class LibraryMemoryBenchTest {

  @Test
  void residentMemory_withAndWithoutRecycling() throws Exception {
    try (SoftHsmTestToken token = SoftHsmTestToken.create()) {
      System.out.println("-- library recycling off");
      rounds(token.hsmConfig().withLibraryRecycle(0));
      System.out.println("-- library recycled after 200,000 objects");
      rounds(token.hsmConfig().withLibraryRecycle(200_000));
    }
  }

  private static void rounds(HsmConfig config) throws Exception {
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(config)) {
      WrappedKey key = hsm.generateBackingKey();
      byte[] salt = hsm.generateRandom(Hsm.SALT_LENGTH);
      byte[] iv = hsm.generateRandom(Hsm.IV_LENGTH);
      byte[] plaintext = new byte[256];
      Derivation derivation = hsm.preferredDerivation();
      for (int round = 1; round <= 8; round++) {
        long start = System.nanoTime();
        for (int i = 0; i < 100_000; i++) {
          hsm.encrypt(key, derivation, salt, iv, new byte[96], plaintext);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long probeStart = System.nanoTime();
        hsm.isHealthy();
        double probeMillis = (System.nanoTime() - probeStart) / 1e6;
        System.gc();
        long heapKb =
            java.lang.management.ManagementFactory.getMemoryMXBean()
                    .getHeapMemoryUsage()
                    .getCommitted()
                / 1024;
        System.out.printf(
            "round %d: %,d encrypts/s, probe %.1f ms, recycles %d, VmRSS %,d kB, heap committed"
                + " %,d kB%n",
            round,
            Math.round(100_000 / seconds),
            probeMillis,
            hsm.libraryRecycles(),
            rssKb(),
            heapKb);
      }
    }
  }

  private static long rssKb() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }
}
