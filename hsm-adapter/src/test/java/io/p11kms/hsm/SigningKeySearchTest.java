package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.keys.PrivateKeyTemplates;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The service's signing key is searched for once per library instance, not before every signature
 * (a search visits every object SoftHSM2 holds, the cached backing keys included), and the MAC is
 * the key's wherever it was found: after a move to a fresh instance of the library, and after the
 * key was destroyed and made again under the same label.
 */
class SigningKeySearchTest {
  private static final int BOUND = 1_000;
  private static final byte[] DATA = "checkpoint".getBytes(StandardCharsets.US_ASCII);

  private static SoftHsmTestToken token;

  @BeforeAll
  static void createToken() {
    token = SoftHsmTestToken.create();
  }

  @AfterAll
  static void deleteToken() {
    token.close();
  }

  /** Counts the searches while on. */
  private static final class Searches implements TokenCallInterceptor {
    final AtomicInteger count = new AtomicInteger();
    volatile boolean on;

    @Override
    public long beforeCall(String function) {
      if (on && function.equals("C_FindObjects")) {
        count.incrementAndGet();
      }
      return 0L;
    }
  }

  @Test
  void sign_searchesOncePerLibraryInstance_andKeepsTheMacAcrossASwitch() throws Exception {
    Searches searches = new Searches();
    String label = "search-once-" + System.nanoTime();
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(token.hsmConfig().withLibraryRecycle(BOUND), searches)) {
      hsm.createSigningKeyIfAbsent(label);
      searches.on = true;
      byte[] mac = hsm.sign(label, DATA);
      for (int i = 0; i < 5; i++) {
        assertThat(hsm.sign(label, DATA)).isEqualTo(mac);
      }
      assertThat(searches.count.get()).as("searches for six signatures").isEqualTo(1);

      searches.on = false;
      SmallSeals.encrypt(hsm, hsm.generateBackingKey(), BOUND);
      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.libraryRecycles()).isEqualTo(1);
      searches.on = true;
      assertThat(hsm.sign(label, DATA)).isEqualTo(mac);
      assertThat(hsm.sign(label, DATA)).isEqualTo(mac);
      assertThat(searches.count.get()).as("one more search in the new instance").isEqualTo(2);
      assertThat(hsm.verify(label, DATA, mac)).isTrue();
    }
  }

  @Test
  void sign_afterTheKeyWasDestroyedAndMadeAgain_usesTheNewKey() throws Exception {
    String label = "made-again-" + System.nanoTime();
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(token.hsmConfig(), TokenCallInterceptor.NONE)) {
      hsm.createSigningKeyIfAbsent(label);
      byte[] before = hsm.sign(label, DATA);
      try (AttackerSession other = AttackerSession.open(token.hsmConfig())) {
        long[] keys =
            other.session().findObjectsSingle(PrivateKeyTemplates.signingKeyByLabel(label), 2);
        assertThat(keys).hasSize(1);
        other.session().destroyObject(keys[0]);
      }
      hsm.createSigningKeyIfAbsent(label);

      byte[] after = hsm.sign(label, DATA);
      assertThat(after).as("a MAC of the new key").isNotEqualTo(before);
      assertThat(hsm.verify(label, DATA, after)).isTrue();
    }
  }
}
