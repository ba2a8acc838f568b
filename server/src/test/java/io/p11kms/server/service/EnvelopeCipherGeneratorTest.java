package io.p11kms.server.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.security.SecureRandom;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Salts and IVs come from a generator of each thread's own, so that no Encrypt waits on another.
 */
class EnvelopeCipherGeneratorTest {
  @Test
  void eachThreadHasItsOwnDrbg_keptForTheThreadsLife() throws Exception {
    SecureRandom mine = EnvelopeCipher.generator();
    SecureRandom another = CompletableFuture.supplyAsync(EnvelopeCipher::generator).get();

    assertSame(mine, EnvelopeCipher.generator());
    assertNotSame(mine, another);
    assertEquals("DRBG", mine.getAlgorithm());
  }
}
