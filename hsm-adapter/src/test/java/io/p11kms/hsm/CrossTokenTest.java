package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.testing.NssTestToken;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
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

  /**
   * SoftHSM2 wraps private and HMAC keys with RFC 5649, which NSS softoken reads with
   * CKM_AES_KEY_WRAP_KWP; the EKT records the format.
   */
  @Test
  void hmacKeysFromSoftHsm_macTheSameOnNss() {
    for (HmacType type : HmacType.values()) {
      WrappedKey hmac = softHsm.generateHmacKey(type);
      assertThat(hmac.wrapMechanism()).isEqualTo(WrapMechanism.AES_KEY_WRAP_PAD);
      assertThat(nss.generateMac(hmac, type, PLAINTEXT))
          .as(type.name())
          .isEqualTo(softHsm.generateMac(hmac, type, PLAINTEXT));
    }
  }

  @Test
  void rsaKeysFromSoftHsm_signOnNss() throws Exception {
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(PLAINTEXT);
    // PKCS#8 lengths vary from key to key, and so does the padding: several keys.
    for (int i = 0; i < 4; i++) {
      WrappedKeyPair pair = softHsm.generateKeyPair(KeyPairType.RSA_2048, PrivateKeyUsage.SIGN);
      byte[] signature =
          nss.signDigest(
              pair.privateKey(),
              KeyPairType.RSA_2048,
              SignatureScheme.RSA_PKCS1_V1_5,
              DigestAlgorithm.SHA_256,
              digest);
      Signature verifier = Signature.getInstance("SHA256withRSA");
      verifier.initVerify(
          KeyFactory.getInstance("RSA")
              .generatePublic(new X509EncodedKeySpec(pair.subjectPublicKeyInfo())));
      verifier.update(PLAINTEXT);
      assertThat(verifier.verify(signature)).isTrue();
    }
  }

  /**
   * NSS softoken's CKM_AES_KEY_WRAP_PAD writes PKCS#7 padding and RFC 3394, which SoftHSM2 2.6
   * cannot unwrap (and NSS cannot write RFC 5649 through the wrapper): its private and HMAC keys'
   * EKTs say so, and SoftHSM2 refuses them by name before any unwrap.
   */
  @Test
  void privateAndHmacKeysFromNss_areRefusedOnSoftHsm_byTheirFormat() {
    WrappedKey hmac = nss.generateHmacKey(HmacType.HMAC_SHA256);
    assertThat(hmac.wrapMechanism()).isEqualTo(WrapMechanism.AES_KEY_WRAP_PKCS7);
    assertThatThrownBy(() -> softHsm.generateMac(hmac, HmacType.HMAC_SHA256, PLAINTEXT))
        .isInstanceOf(HsmException.class)
        .hasMessageContaining("cannot unwrap a key wrapped as AES_KEY_WRAP_PKCS7");
    WrappedKeyPair pair = nss.generateKeyPair(KeyPairType.RSA_2048, PrivateKeyUsage.SIGN);
    assertThat(pair.privateKey().wrapMechanism()).isEqualTo(WrapMechanism.AES_KEY_WRAP_PKCS7);
    assertThatThrownBy(
            () ->
                softHsm.signDigest(
                    pair.privateKey(),
                    KeyPairType.RSA_2048,
                    SignatureScheme.RSA_PKCS1_V1_5,
                    DigestAlgorithm.SHA_256,
                    new byte[32]))
        .isInstanceOf(HsmException.class)
        .hasMessageContaining("cannot unwrap a key wrapped as AES_KEY_WRAP_PKCS7");
  }
}
