package io.p11kms.server.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.Hsm;
import io.p11kms.hsm.HsmUnavailableException;
import io.p11kms.hsm.WrapMechanism;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyStores;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CreateKey never makes two keys. The token call comes first and stores nothing; the key and its
 * first version are committed in one transaction after it, under a key id chosen after the call.
 * The adapter may retry its backing-key generation after a token fault (the first HBK never left
 * the token), but the service asks once and commits once; a failed token call commits nothing, so a
 * client that retries after UNAVAILABLE makes its first key, not a second one.
 */
class CreateKeyOnceTest {
  @TempDir Path temp;
  private KeyStore store;
  private ScriptedHsm hsm;
  private KeyService keys;

  @BeforeEach
  void open() {
    store = KeyStores.open("jdbc:sqlite:" + temp.resolve("keys.db"));
    hsm = new ScriptedHsm();
    keys =
        new KeyService(
            hsm.asHsm(), store, new KeyArns("aws", "local-1", "111122223333"), Clock.systemUTC());
  }

  @AfterEach
  void close() {
    store.close();
  }

  @Test
  void createKey_tokenUnavailable_failsRetryablyAndStoresNothing() {
    hsm.outcomes.add(Optional.empty());

    assertThatThrownBy(() -> keys.createKey(CreateKeyRequest.of("first try")))
        .isInstanceOfSatisfying(
            KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.DEPENDENCY_TIMEOUT));
    assertThat(store.countKeys()).isZero();

    keys.createKey(CreateKeyRequest.of("second try"));
    assertThat(store.countKeys()).isEqualTo(1);
    assertThat(hsm.calls).isEqualTo(2);
  }

  @Test
  void createKey_asksTheTokenOnceAndCommitsOnce() {
    for (int i = 0; i < 5; i++) {
      keys.createKey(CreateKeyRequest.of("key " + i));
    }
    assertThat(hsm.calls).isEqualTo(5);
    assertThat(store.countKeys()).isEqualTo(5);
  }

  /**
   * A token whose generateBackingKey answers from a script (an empty entry is a token outage); any
   * other call fails the test.
   */
  private static final class ScriptedHsm {
    final Deque<Optional<WrappedKey>> outcomes = new ArrayDeque<>();
    int calls;

    Hsm asHsm() {
      return (Hsm)
          Proxy.newProxyInstance(
              Hsm.class.getClassLoader(),
              new Class<?>[] {Hsm.class},
              (proxy, method, args) -> {
                if (method.getName().equals("generateBackingKey")) {
                  return generateBackingKey();
                }
                throw new AssertionError("unexpected token call " + method.getName());
              });
    }

    private WrappedKey generateBackingKey() {
      calls++;
      Optional<WrappedKey> next = outcomes.isEmpty() ? Optional.of(fresh()) : outcomes.poll();
      return next.orElseThrow(() -> new HsmUnavailableException("C_WrapKey failed: test"));
    }

    private WrappedKey fresh() {
      byte[] ekt = new byte[40];
      ekt[0] = (byte) calls;
      return new WrappedKey(1, WrapMechanism.AES_KEY_WRAP, ekt);
    }
  }
}
