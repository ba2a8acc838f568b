package io.p11kms.hsm.keys;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.Derivation;
import io.p11kms.hsm.Hsm;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.TestCeremonies;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.hsm.domain.DomainKeyCeremony;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.xipki.pkcs11.wrapper.AttributeVector;

/**
 * The request path's templates are built once and shared by every thread, and stay what {@link
 * KeyTemplates} builds after the token used them, on both paths: keys derived from backing keys of
 * the ceremony before, and backing keys that run AES-GCM, unwrapped on every request (cache off).
 */
class RequestTemplatesTest {
  private static final byte[] AAD = {1, 2, 3};
  private static final byte[] PLAINTEXT = "shared".getBytes(StandardCharsets.UTF_8);

  @Test
  void eachTemplate_isOneInstance_builtAsKeyTemplatesBuildsIt() {
    assertSharedAndAsBuilt();
  }

  @Test
  void templates_stayAsBuilt_afterFourThreadsUsedThemOnTheToken() throws Exception {
    try (SoftHsmTestToken token = SoftHsmTestToken.createWithoutDomainKey()) {
      char[] soPin = token.soPin();
      try {
        TestCeremonies.run(
            TestCeremonies.Kind.PREVIOUS, token.modulePath(), token.label(), soPin, 1);
        try (Pkcs11Hsm hsm = open(token)) {
          roundTripsOnFourThreads(hsm, Derivation.AES_ECB_ENCRYPT_DATA);
        }
        assertThat(DomainKeyCeremony.createNextDomainKey(token.modulePath(), token.label(), soPin))
            .isEqualTo(2);
      } finally {
        Arrays.fill(soPin, '\0');
      }
      try (Pkcs11Hsm hsm = open(token)) {
        roundTripsOnFourThreads(hsm, Derivation.NONE_AES_GCM);
      }
    }
    assertSharedAndAsBuilt();
  }

  private static Pkcs11Hsm open(SoftHsmTestToken token) {
    return Pkcs11Hsm.open(token.hsmConfig().withCache(0, Duration.ofMinutes(1)));
  }

  private static void roundTripsOnFourThreads(Pkcs11Hsm hsm, Derivation derivation)
      throws Exception {
    WrappedKey key = hsm.generateBackingKey();
    assertThat(hsm.derivationFor(key)).isEqualTo(derivation);
    ExecutorService threads = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        done.add(
            threads.submit(
                () -> {
                  for (int i = 0; i < 25; i++) {
                    byte[] salt = hsm.generateRandom(Hsm.SALT_LENGTH);
                    byte[] iv = hsm.generateRandom(Hsm.IV_LENGTH);
                    byte[] sealed = hsm.encrypt(key, derivation, salt, iv, AAD, PLAINTEXT);
                    assertThat(hsm.decrypt(key, derivation, salt, iv, AAD, sealed))
                        .isEqualTo(PLAINTEXT);
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      threads.shutdownNow();
    }
  }

  private static void assertSharedAndAsBuilt() {
    for (boolean forEncrypt : new boolean[] {true, false}) {
      AttributeVector shared = RequestTemplates.derivedKey(forEncrypt);
      assertThat(RequestTemplates.derivedKey(forEncrypt)).isSameAs(shared);
      assertThat(shared).hasToString(KeyTemplates.derivedKey(forEncrypt).toString());
    }
    for (BackingKeyUse use : BackingKeyUse.values()) {
      for (boolean privateObject : new boolean[] {true, false}) {
        AttributeVector shared =
            RequestTemplates.unwrappedBackingKey(use, privateObject).attributes();
        assertThat(RequestTemplates.unwrappedBackingKey(use, privateObject).attributes())
            .isSameAs(shared);
        assertThat(shared)
            .hasToString(KeyTemplates.unwrappedBackingKey(use, privateObject).toString());
      }
    }
  }
}
