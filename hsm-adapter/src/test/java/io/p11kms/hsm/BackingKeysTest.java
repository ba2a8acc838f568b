package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The cache on a real token: bounded objects, destroyed on eviction and age, gone on reset. */
class BackingKeysTest {
  private static SoftHsmTestToken token;

  @BeforeAll
  static void createToken() {
    token = SoftHsmTestToken.create();
  }

  @AfterAll
  static void deleteToken() {
    token.close();
  }

  private static void use(Pkcs11Hsm hsm, WrappedKey key) {
    byte[] salt = new byte[Hsm.SALT_LENGTH];
    byte[] iv = new byte[Hsm.IV_LENGTH];
    byte[] ciphertext = hsm.encrypt(key, hsm.preferredDerivation(), salt, iv, null, new byte[] {7});
    assertThat(hsm.decrypt(key, hsm.preferredDerivation(), salt, iv, null, ciphertext))
        .containsExactly(7);
  }

  private static void encrypt(Pkcs11Hsm hsm, WrappedKey key) {
    byte[] salt = new byte[Hsm.SALT_LENGTH];
    byte[] iv = new byte[Hsm.IV_LENGTH];
    assertThat(hsm.encrypt(key, hsm.preferredDerivation(), salt, iv, null, new byte[] {7}))
        .isNotEmpty();
  }

  @Test
  void cache_holdsAtMostMaxKeysObjects() {
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(token.hsmConfig().withCache(3, Duration.ofMinutes(5)))) {
      int before = hsm.visibleObjectCount();
      List<WrappedKey> keys = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        keys.add(hsm.generateBackingKey());
      }
      for (WrappedKey key : keys) {
        use(hsm, key);
      }
      assertThat(hsm.cachedBackingKeyCount()).isEqualTo(3);
      assertThat(hsm.visibleObjectCount()).isEqualTo(before + 3);
    }
  }

  @Test
  void cacheFull_aKeyUsedLessThanTheCachedOnesIsNotKept_oneUsedMoreTakesAPlace() {
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(token.hsmConfig().withCache(2, Duration.ofMinutes(5)))) {
      int before = hsm.visibleObjectCount();
      WrappedKey first = hsm.generateBackingKey();
      WrappedKey second = hsm.generateBackingKey();
      WrappedKey third = hsm.generateBackingKey();
      use(hsm, first);
      use(hsm, second);
      long missesBefore = hsm.backingKeyCacheMisses();

      encrypt(hsm, third);
      assertThat(hsm.backingKeyCacheMisses()).isEqualTo(missesBefore + 1);
      assertThat(hsm.cachedBackingKeyCount()).isEqualTo(2);
      assertThat(hsm.visibleObjectCount()).isEqualTo(before + 2);

      // Used more often than the cached keys, it is kept within a few more calls.
      long hitsBefore = hsm.backingKeyCacheHits();
      for (int i = 0; i < 6 && hsm.backingKeyCacheHits() == hitsBefore; i++) {
        encrypt(hsm, third);
        assertThat(hsm.visibleObjectCount()).isEqualTo(before + 2);
      }
      assertThat(hsm.backingKeyCacheHits()).isEqualTo(hitsBefore + 1);
      assertThat(hsm.cachedBackingKeyCount()).isEqualTo(2);
      assertThat(hsm.visibleObjectCount()).isEqualTo(before + 2);
    }
  }

  @Test
  void cache_objectsPastTheirAgeAreDestroyedByTheHealthProbe() throws Exception {
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(token.hsmConfig().withCache(10, Duration.ofMillis(200)))) {
      int before = hsm.visibleObjectCount();
      use(hsm, hsm.generateBackingKey());
      use(hsm, hsm.generateBackingKey());
      assertThat(hsm.visibleObjectCount()).isEqualTo(before + 2);

      Thread.sleep(300);
      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.cachedBackingKeyCount()).isZero();
      assertThat(hsm.visibleObjectCount()).isEqualTo(before);
    }
  }

  @Test
  void cache_doesNotSurviveAReset() throws Exception {
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(token.hsmConfig())) {
      int before = hsm.visibleObjectCount();
      WrappedKey key = hsm.generateBackingKey();
      use(hsm, key);
      assertThat(hsm.cachedBackingKeyCount()).isEqualTo(1);

      new TokenFaults(hsm).closeAllSessions();
      use(hsm, key);

      assertThat(hsm.cachedBackingKeyCount()).isEqualTo(1);
      assertThat(hsm.visibleObjectCount()).isEqualTo(before + 1);
    }
  }

  @Test
  void cacheOff_keepsNoObject() {
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(token.hsmConfig().withCache(0, Duration.ofMinutes(1)))) {
      int before = hsm.visibleObjectCount();
      use(hsm, hsm.generateBackingKey());
      assertThat(hsm.cachedBackingKeyCount()).isZero();
      assertThat(hsm.visibleObjectCount()).isEqualTo(before);
    }
  }
}
