package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.keys.PrivateKeyTemplates;
import io.p11kms.hsm.testing.SearchCounter;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;

/**
 * The service's signing key is searched for once per library instance and then once a minute, not
 * before every signature (a search visits every object SoftHSM2 holds, the cached backing keys
 * included), and the MAC is the key's wherever it was found: after a move to a fresh instance of
 * the library, and after the key was destroyed and made again under the same label. A second key
 * with the label is refused at the next search: at most a minute later, or at the next epoch.
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

  @Test
  void sign_searchesOncePerLibraryInstance_andKeepsTheMacAcrossASwitch() throws Exception {
    SearchCounter searches = new SearchCounter();
    String label = "search-once-" + System.nanoTime();
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(token.hsmConfig().withLibraryRecycle(BOUND), searches)) {
      hsm.createSigningKeyIfAbsent(label);
      searches.on();
      byte[] mac = hsm.sign(label, DATA);
      for (int i = 0; i < 5; i++) {
        assertThat(hsm.sign(label, DATA)).isEqualTo(mac);
      }
      assertThat(searches.count()).as("searches for six signatures").isEqualTo(1);

      searches.off();
      SmallSeals.encrypt(hsm, hsm.generateBackingKey(), BOUND);
      assertThat(hsm.isHealthy()).isTrue();
      assertThat(hsm.libraryRecycles()).isEqualTo(1);
      searches.on();
      assertThat(hsm.sign(label, DATA)).isEqualTo(mac);
      assertThat(hsm.sign(label, DATA)).isEqualTo(mac);
      assertThat(searches.count()).as("one more search in the new instance").isEqualTo(2);
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

  @Test
  void twentyCheckpointSignatures_aSecondApart_searchOnce() throws Exception {
    SearchCounter searches = new SearchCounter();
    String label = "a-second-apart-" + System.nanoTime();
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(token.hsmConfig(), searches)) {
      hsm.createSigningKeyIfAbsent(label);
      byte[] mac = hsm.sign(label, DATA);
      AtomicLong clock = new AtomicLong();
      SigningKeyHandles handles = handles(hsm, clock);
      searches.on();
      hsm.withSessionForTest(
          session -> {
            for (int i = 0; i < 20; i++) {
              long key = handles.handle(session, label, EPOCH);
              assertThat(
                      session.signSingle(new Mechanism(PKCS11Constants.CKM_SHA256_HMAC), key, DATA))
                  .isEqualTo(mac);
              clock.addAndGet(TimeUnit.SECONDS.toNanos(1));
            }
            return null;
          });
      assertThat(searches.count()).as("searches for 20 signatures over 20 s").isEqualTo(1);
    }
  }

  @Test
  void aSecondKeyWithTheLabel_isRefusedAtANewEpoch_andOnceTheSearchIntervalIsOver()
      throws Exception {
    String label = "twin-" + System.nanoTime();
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(token.hsmConfig(), TokenCallInterceptor.NONE)) {
      hsm.createSigningKeyIfAbsent(label);
      AtomicLong clock = new AtomicLong();
      SigningKeyHandles handles = handles(hsm, clock);
      hsm.withSessionForTest(
          session -> {
            long genuine = handles.handle(session, label, EPOCH);
            long twin = makeTwin(session, label);
            clock.addAndGet(SigningKeyHandles.SEARCH_INTERVAL_NANOS - 1);
            assertThat(handles.handle(session, label, EPOCH)).isEqualTo(genuine);
            assertThatThrownBy(() -> handles.handle(session, label, EPOCH + 1))
                .isInstanceOf(HsmException.class)
                .hasMessageContaining("2 signing keys");
            session.destroyObject(twin);

            assertThat(handles.handle(session, label, EPOCH)).isEqualTo(genuine);
            twin = makeTwin(session, label);
            clock.addAndGet(SigningKeyHandles.SEARCH_INTERVAL_NANOS - 1);
            assertThat(handles.handle(session, label, EPOCH)).isEqualTo(genuine);
            clock.addAndGet(1);
            assertThatThrownBy(() -> handles.handle(session, label, EPOCH))
                .isInstanceOf(HsmException.class)
                .hasMessageContaining("2 signing keys");
            session.destroyObject(twin);
            assertThat(handles.handle(session, label, EPOCH)).isEqualTo(genuine);
            return null;
          });
    }
  }

  private static final long EPOCH = 7;

  private static SigningKeyHandles handles(Pkcs11Hsm hsm, AtomicLong clock) {
    return new SigningKeyHandles(
        hsm.callsForTest(), hsm.capabilities().marksGeneratedKeysLocal(), clock::get);
  }

  private static long makeTwin(org.xipki.pkcs11.wrapper.Session session, String label)
      throws PKCS11Exception {
    return session.generateKey(
        new Mechanism(PKCS11Constants.CKM_GENERIC_SECRET_KEY_GEN),
        PrivateKeyTemplates.signingKey(label));
  }
}
