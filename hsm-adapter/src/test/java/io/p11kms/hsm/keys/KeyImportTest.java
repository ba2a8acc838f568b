package io.p11kms.hsm.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.AttackerSession;
import io.p11kms.hsm.Derivation;
import io.p11kms.hsm.DigestAlgorithm;
import io.p11kms.hsm.Hsm;
import io.p11kms.hsm.HsmDecryptionFailedException;
import io.p11kms.hsm.ImportUnsupportedException;
import io.p11kms.hsm.ImportWrappingAlgorithm;
import io.p11kms.hsm.ImportWrappingKey;
import io.p11kms.hsm.ImportWrappingKeyNotFoundException;
import io.p11kms.hsm.ImportedMaterialLengthException;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.hsm.testing.CustomerKeyWrap;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.params.RSA_PKCS_OAEP_PARAMS;

/**
 * Key material made here with the JDK, wrapped as a customer wraps it (the JDK's RSA-OAEP, and for
 * RSA-AES key wrap AES/KWP under an ephemeral AES key), imported into the token: the backing key it
 * becomes encrypts what the JDK decrypts with the same material, and the wrapping key can unwrap
 * into nothing readable.
 */
class KeyImportTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static SoftHsmTestToken token;
  private static Pkcs11Hsm hsm;
  private int objectsBefore;

  @BeforeAll
  static void open() {
    token = SoftHsmTestToken.create();
    hsm = Pkcs11Hsm.open(token.hsmConfig());
  }

  @AfterAll
  static void close() {
    hsm.close();
    token.close();
  }

  @BeforeEach
  void countObjects() {
    hsm.evictCachedBackingKeys();
    objectsBefore = hsm.visibleObjectCount();
  }

  @Test
  void oaepSha1_importsTheMaterial_andTheTokenEncryptsUnderIt() throws Exception {
    importsAndEncryptsUnderTheMaterial(ImportWrappingAlgorithm.RSAES_OAEP_SHA_1, 2048);
  }

  @Test
  void rsaAesKeyWrapSha1_importsTheMaterial_andTheTokenEncryptsUnderIt() throws Exception {
    importsAndEncryptsUnderTheMaterial(ImportWrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_1, 3072);
  }

  @Test
  void sha256_isRefusedWhereTheTokenCannotUnwrapIt_andLeavesNothing() {
    // SoftHSM2 2.6.1 takes RSAES-OAEP with SHA-1 only: the material would have to be decoded
    // outside the token, so the adapter refuses rather than do that.
    for (ImportWrappingAlgorithm algorithm :
        new ImportWrappingAlgorithm[] {
          ImportWrappingAlgorithm.RSAES_OAEP_SHA_256,
          ImportWrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_256
        }) {
      assertThatThrownBy(() -> hsm.createImportWrappingKey(algorithm, 2048, inADay()))
          .isInstanceOf(ImportUnsupportedException.class)
          .hasMessageContaining(algorithm.name());
    }
    assertThat(hsm.visibleObjectCount()).isEqualTo(objectsBefore);
  }

  @Test
  void materialThatDoesNotUnwrap_failsAsDecryption_andKeepsTheWrappingKey() throws Exception {
    for (ImportWrappingAlgorithm algorithm :
        new ImportWrappingAlgorithm[] {
          ImportWrappingAlgorithm.RSAES_OAEP_SHA_1, ImportWrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_1
        }) {
      ImportWrappingKey wrapping = hsm.createImportWrappingKey(algorithm, 2048, inADay());
      byte[] wrapped = wrap(wrapping, material());
      byte[] rsaPartTampered = wrapped.clone();
      rsaPartTampered[10] ^= 1;
      byte[] lastByteTampered = wrapped.clone();
      lastByteTampered[wrapped.length - 1] ^= 1;
      for (byte[] bad :
          new byte[][] {rsaPartTampered, lastByteTampered, Arrays.copyOf(wrapped, 100)}) {
        assertThatThrownBy(() -> hsm.importBackingKey(wrapping.id(), algorithm, bad))
            .as(algorithm.name())
            .isInstanceOf(HsmDecryptionFailedException.class);
      }
      assertThat(hsm.visibleObjectCount()).isEqualTo(objectsBefore + 1);
      assertThat(hsm.destroyImportWrappingKey(wrapping.id())).isTrue();
    }
    assertThat(hsm.visibleObjectCount()).isEqualTo(objectsBefore);
  }

  @Test
  void materialOfAnotherLength_isRefused() throws Exception {
    ImportWrappingKey wrapping =
        hsm.createImportWrappingKey(ImportWrappingAlgorithm.RSAES_OAEP_SHA_1, 2048, inADay());
    try {
      byte[] short16 = Arrays.copyOf(material(), 16);
      assertThatThrownBy(
              () ->
                  hsm.importBackingKey(
                      wrapping.id(), wrapping.algorithm(), wrap(wrapping, short16)))
          .isInstanceOf(ImportedMaterialLengthException.class)
          .hasMessageContaining("128 bits");
    } finally {
      hsm.destroyImportWrappingKey(wrapping.id());
    }
    assertThat(hsm.visibleObjectCount()).isEqualTo(objectsBefore);
  }

  @Test
  void unknownOrDestroyedWrappingKey_isNotFound() throws Exception {
    ImportWrappingKey wrapping =
        hsm.createImportWrappingKey(ImportWrappingAlgorithm.RSAES_OAEP_SHA_1, 2048, inADay());
    byte[] wrapped = wrap(wrapping, material());
    assertThat(hsm.destroyImportWrappingKey(wrapping.id())).isTrue();
    assertThat(hsm.destroyImportWrappingKey(wrapping.id())).isFalse();
    assertThatThrownBy(() -> hsm.importBackingKey(wrapping.id(), wrapping.algorithm(), wrapped))
        .isInstanceOf(ImportWrappingKeyNotFoundException.class);
    assertThatThrownBy(() -> hsm.importBackingKey("../domain-key/1", wrapping.algorithm(), wrapped))
        .isInstanceOf(ImportWrappingKeyNotFoundException.class);
    assertThat(hsm.visibleObjectCount()).isEqualTo(objectsBefore);
  }

  @Test
  void expiredWrappingKeys_areDestroyed_andOthersKept() throws Exception {
    Instant now = Instant.now();
    ImportWrappingKey expired =
        hsm.createImportWrappingKey(
            ImportWrappingAlgorithm.RSAES_OAEP_SHA_1, 2048, now.minusSeconds(1));
    ImportWrappingKey valid =
        hsm.createImportWrappingKey(ImportWrappingAlgorithm.RSAES_OAEP_SHA_1, 2048, inADay());
    assertThat(hsm.visibleObjectCount()).isEqualTo(objectsBefore + 2);
    assertThat(hsm.destroyExpiredImportWrappingKeys(now)).isEqualTo(1);
    assertThat(hsm.destroyImportWrappingKey(expired.id())).isFalse();
    assertThat(hsm.destroyImportWrappingKey(valid.id())).isTrue();
    assertThat(hsm.visibleObjectCount()).isEqualTo(objectsBefore);
  }

  @Test
  void theWrappingKeySurvivesAReopen() throws Exception {
    ImportWrappingKey wrapping =
        hsm.createImportWrappingKey(ImportWrappingAlgorithm.RSAES_OAEP_SHA_1, 2048, inADay());
    byte[] material = material();
    byte[] wrapped = wrap(wrapping, material);
    hsm.close();
    hsm = Pkcs11Hsm.open(token.hsmConfig());
    try {
      WrappedKey ekt = hsm.importBackingKey(wrapping.id(), wrapping.algorithm(), wrapped);
      assertEncryptsUnder(ekt, material);
    } finally {
      hsm.destroyImportWrappingKey(wrapping.id());
    }
  }

  /**
   * Someone with the user PIN who captured the customer's wrapped material unwraps it with the
   * token's wrapping key into a key they could read: the token refuses, because the wrapping key's
   * UNWRAP_TEMPLATE forces a sensitive backing key; and it cannot decrypt with it either.
   */
  @Test
  void theWrappingKeyUnwrapsIntoNothingReadable() throws Exception {
    ImportWrappingKey wrapping =
        hsm.createImportWrappingKey(ImportWrappingAlgorithm.RSAES_OAEP_SHA_1, 2048, inADay());
    byte[] wrapped = wrap(wrapping, material());
    Mechanism oaep =
        new Mechanism(
            PKCS11Constants.CKM_RSA_PKCS_OAEP,
            new RSA_PKCS_OAEP_PARAMS(PKCS11Constants.CKM_SHA_1, PKCS11Constants.CKG_MGF1_SHA1));
    try (AttackerSession attacker = AttackerSession.open(token.hsmConfig())) {
      long[] found =
          attacker
              .session()
              .findObjectsSingle(
                  new AttributeVector()
                      .class_(PKCS11Constants.CKO_PRIVATE_KEY)
                      .label(KeyImports.LABEL_PREFIX + wrapping.id()),
                  2);
      assertThat(found).hasSize(1);
      AttributeVector readable =
          AttributeVector.newAESSecretKey()
              .token(false)
              .sensitive(false)
              .extractable(true)
              .encrypt(true)
              .decrypt(true);
      assertThatThrownBy(() -> attacker.session().unwrapKey(oaep, found[0], wrapped, readable))
          .isInstanceOf(PKCS11Exception.class);
      assertThatThrownBy(() -> attacker.session().decryptSingle(oaep, found[0], wrapped))
          .isInstanceOf(PKCS11Exception.class);
      assertThat(
              attacker
                  .session()
                  .getAttrValues(found[0], PKCS11Constants.CKA_EXTRACTABLE)
                  .getBooleanAttrValue(PKCS11Constants.CKA_EXTRACTABLE))
          .isFalse();
    } finally {
      hsm.destroyImportWrappingKey(wrapping.id());
    }
    assertThat(hsm.visibleObjectCount()).isEqualTo(objectsBefore);
  }

  private void importsAndEncryptsUnderTheMaterial(ImportWrappingAlgorithm algorithm, int bits)
      throws Exception {
    ImportWrappingKey wrapping = hsm.createImportWrappingKey(algorithm, bits, inADay());
    assertThat(wrapping.algorithm()).isEqualTo(algorithm);
    assertThat(publicKey(wrapping).getEncoded()).isEqualTo(wrapping.subjectPublicKeyInfo());
    assertThat(hsm.visibleObjectCount()).isEqualTo(objectsBefore + 1);
    byte[] material = material();
    WrappedKey ekt = hsm.importBackingKey(wrapping.id(), algorithm, wrap(wrapping, material));
    assertThat(ekt.domainKeyGeneration()).isEqualTo(1);
    assertThat(ekt.ekt()).hasSize(40);
    assertEncryptsUnder(ekt, material);
    // The same material again gives the same EKT (RFC 3394 is deterministic).
    assertThat(hsm.importBackingKey(wrapping.id(), algorithm, wrap(wrapping, material)))
        .isEqualTo(ekt);
    assertThat(hsm.destroyImportWrappingKey(wrapping.id())).isTrue();
    hsm.evictCachedBackingKeys();
    assertThat(hsm.visibleObjectCount()).isEqualTo(objectsBefore);
  }

  /** The token's AES-GCM under the imported backing key is the JDK's under the material. */
  private static void assertEncryptsUnder(WrappedKey ekt, byte[] material) throws Exception {
    byte[] iv = new byte[Hsm.IV_LENGTH];
    RANDOM.nextBytes(iv);
    byte[] aad = "import test".getBytes();
    byte[] plaintext = "what the customer's own key protects".getBytes();
    byte[] sealed =
        hsm.encrypt(ekt, Derivation.NONE_AES_GCM, new byte[Hsm.SALT_LENGTH], iv, aad, plaintext);
    Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
    gcm.init(
        Cipher.DECRYPT_MODE,
        new SecretKeySpec(material, "AES"),
        new GCMParameterSpec(Hsm.TAG_LENGTH * 8, iv));
    gcm.updateAAD(aad);
    assertThat(gcm.doFinal(sealed)).isEqualTo(plaintext);
  }

  /** Wraps {@code material} as a customer does, with the JDK, for the wrapping key's algorithm. */
  static byte[] wrap(ImportWrappingKey wrapping, byte[] material) throws Exception {
    return CustomerKeyWrap.wrap(
        wrapping.subjectPublicKeyInfo(),
        wrapping.algorithm().oaepHash() == DigestAlgorithm.SHA_1 ? "SHA-1" : "SHA-256",
        wrapping.algorithm().ephemeralAesKey(),
        material);
  }

  private static PublicKey publicKey(ImportWrappingKey wrapping) throws Exception {
    return KeyFactory.getInstance("RSA")
        .generatePublic(new X509EncodedKeySpec(wrapping.subjectPublicKeyInfo()));
  }

  private static byte[] material() {
    return CustomerKeyWrap.newMaterial();
  }

  private static Instant inADay() {
    return Instant.now().plus(1, ChronoUnit.DAYS);
  }
}
