package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.testing.NssTestToken;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What one token wraps and encrypts, another token of a different implementation reads, when both
 * hold the same domain key material: SoftHSM2 and NSS softoken, in both directions, through the
 * adapter. The shared material is a test set-up ({@link KnownDomainKeys}); in production the domain
 * join copies domain keys between tokens that enforce custody.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CrossTokenTest {
  private static final String SEED = "cross-token test domain keys";
  private static final byte[] AAD = "header|context".getBytes(StandardCharsets.UTF_8);
  private static final byte[] PLAINTEXT =
      "made on one token, read on the other".getBytes(StandardCharsets.UTF_8);

  private SoftHsmTestToken softHsmToken;
  private NssTestToken nssToken;
  private Pkcs11Hsm softHsm;
  private Pkcs11Hsm nss;

  @BeforeAll
  void open() throws Exception {
    softHsmToken = SoftHsmTestToken.createWithoutDomainKey();
    KnownDomainKeys.createAsSecurityOfficer(softHsmToken, SEED, 1);
    nssToken = NssTestToken.createWithoutDomainKey();
    KnownDomainKeys.createAsUser(nssToken, SEED, 1);
    softHsm = Pkcs11Hsm.open(softHsmToken.hsmConfig());
    nss = Pkcs11Hsm.open(nssToken.hsmConfig());
  }

  @AfterAll
  void close() {
    for (AutoCloseable c : new AutoCloseable[] {softHsm, nss, softHsmToken, nssToken}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception e) {
        // Best effort: the next one is still closed.
      }
    }
  }

  /** Which token makes the key and the ciphertext, and which reads them. */
  enum Direction {
    SOFTHSM2_TO_NSS,
    NSS_TO_SOFTHSM2
  }

  private Pkcs11Hsm maker(Direction direction) {
    return direction == Direction.SOFTHSM2_TO_NSS ? softHsm : nss;
  }

  private Pkcs11Hsm reader(Direction direction) {
    return direction == Direction.SOFTHSM2_TO_NSS ? nss : softHsm;
  }

  @ParameterizedTest
  @EnumSource
  void ciphertext_decryptsOnTheOtherToken(Direction direction) {
    Pkcs11Hsm maker = maker(direction);
    Pkcs11Hsm reader = reader(direction);
    WrappedKey key = maker.generateBackingKey();
    Derivation derivation = maker.derivationFor(key);
    assertThat(reader.derivationFor(key)).isEqualTo(derivation);
    byte[] salt = maker.generateRandom(Hsm.SALT_LENGTH);
    byte[] iv = maker.generateRandom(Hsm.IV_LENGTH);
    byte[] sealed = maker.encrypt(key, derivation, salt, iv, AAD, PLAINTEXT);
    assertThat(reader.decrypt(key, derivation, salt, iv, AAD, sealed)).isEqualTo(PLAINTEXT);

    // The same backing key, the other way: the reader encrypts, the maker decrypts.
    byte[] iv2 = reader.generateRandom(Hsm.IV_LENGTH);
    byte[] back = reader.encrypt(key, derivation, salt, iv2, AAD, PLAINTEXT);
    assertThat(maker.decrypt(key, derivation, salt, iv2, AAD, back)).isEqualTo(PLAINTEXT);
  }

  @ParameterizedTest
  @EnumSource
  void dataKey_decryptsOnTheOtherToken(Direction direction) {
    Pkcs11Hsm maker = maker(direction);
    Pkcs11Hsm reader = reader(direction);
    WrappedKey key = maker.generateBackingKey();
    byte[] dataKey = maker.generateRandom(32);
    byte[] salt = maker.generateRandom(Hsm.SALT_LENGTH);
    byte[] iv = maker.generateRandom(Hsm.IV_LENGTH);
    byte[] sealed = maker.encrypt(key, Derivation.NONE_AES_GCM, salt, iv, AAD, dataKey);
    assertThat(reader.decrypt(key, Derivation.NONE_AES_GCM, salt, iv, AAD, sealed))
        .isEqualTo(dataKey);
  }
}
