package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.PSSParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.EnumSet;
import javax.crypto.Cipher;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Private and HMAC keys on a real SoftHSM2 token: every signature verifies with a JDK {@link
 * Signature} given only the returned SubjectPublicKeyInfo, JDK OAEP ciphertexts decrypt, data key
 * pairs parse in the JDK, and no operation, failed or not, leaves an object on the token.
 */
class AsymmetricKeysTest {
  private static final byte[] MESSAGE = "sign me".getBytes(StandardCharsets.UTF_8);

  /** JDK 17 dropped secp256k1; Bouncy Castle verifies those signatures. */
  private static final Provider BC = new BouncyCastleProvider();

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
    if (hsm != null) {
      hsm.close();
    }
    if (token != null) {
      token.close();
    }
  }

  @BeforeEach
  void countObjects() {
    objectsBefore = hsm.visibleObjectCount();
  }

  @AfterEach
  void noObjectLeft() {
    assertThat(hsm.visibleObjectCount()).as("objects on the token").isEqualTo(objectsBefore);
  }

  @Test
  void supportedKeyPairTypes_onSoftHsm2_areAllSeven() {
    assertThat(hsm.supportedKeyPairTypes()).isEqualTo(EnumSet.allOf(KeyPairType.class));
  }

  @ParameterizedTest
  @EnumSource(
      value = KeyPairType.class,
      names = {"EC_P256", "EC_P384", "EC_P521", "EC_SECP256K1"})
  void ecdsa_signatureOfEachDigest_verifiesWithTheJdkFromTheSpkiAlone(KeyPairType type)
      throws Exception {
    WrappedKeyPair pair = hsm.generateKeyPair(type, PrivateKeyUsage.SIGN);

    assertThat(pair.privateKey().wrapMechanism()).isEqualTo(WrapMechanism.AES_KEY_WRAP_PAD);
    assertThat(pair.privateKey().domainKeyGeneration()).isEqualTo(1);
    PublicKey publicKey = publicKey("EC", pair, type);
    assertThat(((ECPublicKey) publicKey).getParams().getCurve().getField().getFieldSize())
        .isEqualTo(type.bits());
    for (DigestAlgorithm digest :
        new DigestAlgorithm[] {
          DigestAlgorithm.SHA_256, DigestAlgorithm.SHA_384, DigestAlgorithm.SHA_512
        }) {
      byte[] signature =
          hsm.signDigest(
              pair.privateKey(), type, SignatureScheme.ECDSA, digest, hash(digest, MESSAGE));
      String algorithm = jdkName(digest) + "withECDSA";
      assertThat(verify(algorithm, null, publicKey, type, MESSAGE, signature)).isTrue();
      assertThat(verify(algorithm, null, publicKey, type, "other".getBytes(), signature)).isFalse();
    }
  }

  @Test
  void rsa2048_pkcs1AndPss_verifyWithTheJdk_andATamperedSignatureDoesNot() throws Exception {
    assertRsaSignatures(KeyPairType.RSA_2048);
  }

  @Test
  void rsa3072_and4096_signaturesVerifyWithTheJdk() throws Exception {
    assertRsaSignatures(KeyPairType.RSA_3072);
    assertRsaSignatures(KeyPairType.RSA_4096);
  }

  private void assertRsaSignatures(KeyPairType type) throws Exception {
    WrappedKeyPair pair = hsm.generateKeyPair(type, PrivateKeyUsage.SIGN);
    RSAPublicKey publicKey = (RSAPublicKey) publicKey("RSA", pair, type);
    assertThat(publicKey.getModulus().bitLength()).isEqualTo(type.bits());
    for (DigestAlgorithm digest :
        new DigestAlgorithm[] {
          DigestAlgorithm.SHA_256, DigestAlgorithm.SHA_384, DigestAlgorithm.SHA_512
        }) {
      byte[] value = hash(digest, MESSAGE);
      byte[] pkcs1 =
          hsm.signDigest(pair.privateKey(), type, SignatureScheme.RSA_PKCS1_V1_5, digest, value);
      assertThat(verify(jdkName(digest) + "withRSA", null, publicKey, type, MESSAGE, pkcs1))
          .isTrue();
      byte[] pss = hsm.signDigest(pair.privateKey(), type, SignatureScheme.RSA_PSS, digest, value);
      PSSParameterSpec spec =
          new PSSParameterSpec(
              mdName(digest), "MGF1", new MGF1ParameterSpec(mdName(digest)), digest.length(), 1);
      assertThat(verify("RSASSA-PSS", spec, publicKey, type, MESSAGE, pss)).isTrue();
      pss[pss.length / 2] ^= 1;
      assertThat(verify("RSASSA-PSS", spec, publicKey, type, MESSAGE, pss)).isFalse();
    }
  }

  @Test
  void oaepSha1AndSha256_jdkCiphertextsDecrypt_tamperedOrMismatchedOnesFail() throws Exception {
    KeyPairType type = KeyPairType.RSA_2048;
    WrappedKeyPair pair = hsm.generateKeyPair(type, PrivateKeyUsage.DECRYPT);
    PublicKey publicKey = publicKey("RSA", pair, type);
    byte[] secret = "the plaintext".getBytes(StandardCharsets.UTF_8);
    for (DigestAlgorithm hash :
        new DigestAlgorithm[] {DigestAlgorithm.SHA_1, DigestAlgorithm.SHA_256}) {
      byte[] ciphertext = oaepEncrypt(publicKey, hash, secret);
      assertThat(hsm.decryptOaep(pair.privateKey(), type, hash, ciphertext)).isEqualTo(secret);
      // Twice: the second SHA-256 call takes the path the first one learnt.
      assertThat(hsm.decryptOaep(pair.privateKey(), type, hash, ciphertext)).isEqualTo(secret);

      byte[] tampered = ciphertext.clone();
      tampered[10] ^= 1;
      assertThatThrownBy(() -> hsm.decryptOaep(pair.privateKey(), type, hash, tampered))
          .isInstanceOf(HsmDecryptionFailedException.class)
          .hasMessage("decryption failed");
      DigestAlgorithm other =
          hash == DigestAlgorithm.SHA_1 ? DigestAlgorithm.SHA_256 : DigestAlgorithm.SHA_1;
      assertThatThrownBy(() -> hsm.decryptOaep(pair.privateKey(), type, other, ciphertext))
          .isInstanceOf(HsmDecryptionFailedException.class);
    }
    assertThatThrownBy(
            () -> hsm.decryptOaep(pair.privateKey(), type, DigestAlgorithm.SHA_256, new byte[255]))
        .isInstanceOf(HsmDecryptionFailedException.class);
    // As long as the modulus but larger than it: no RSA ciphertext at all.
    byte[] tooLarge = new byte[256];
    Arrays.fill(tooLarge, (byte) 0xff);
    for (DigestAlgorithm hash :
        new DigestAlgorithm[] {DigestAlgorithm.SHA_1, DigestAlgorithm.SHA_256}) {
      assertThatThrownBy(() -> hsm.decryptOaep(pair.privateKey(), type, hash, tooLarge))
          .isInstanceOf(HsmDecryptionFailedException.class);
    }
  }

  @Test
  void badRequests_areRefusedBeforeAnyTokenCall() {
    WrappedKey any = new WrappedKey(1, WrapMechanism.AES_KEY_WRAP_PAD, new byte[40]);
    assertThatThrownBy(() -> hsm.generateKeyPair(KeyPairType.EC_P256, PrivateKeyUsage.DECRYPT))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () ->
                hsm.signDigest(
                    any,
                    KeyPairType.EC_P256,
                    SignatureScheme.ECDSA,
                    DigestAlgorithm.SHA_256,
                    new byte[31]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("32 bytes");
    assertThatThrownBy(
            () ->
                hsm.signDigest(
                    any,
                    KeyPairType.RSA_2048,
                    SignatureScheme.ECDSA,
                    DigestAlgorithm.SHA_256,
                    new byte[32]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> hsm.decryptOaep(any, KeyPairType.EC_P256, DigestAlgorithm.SHA_1, new byte[64]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> hsm.generateMac(any, null, MESSAGE))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aCorruptEkt_failsAsAnInternalFault_andLeavesNothing() {
    WrappedKeyPair pair = hsm.generateKeyPair(KeyPairType.EC_P256, PrivateKeyUsage.SIGN);
    byte[] ekt = pair.privateKey().ekt();
    ekt[ekt.length - 1] ^= 1;
    WrappedKey corrupt = new WrappedKey(1, WrapMechanism.AES_KEY_WRAP_PAD, ekt);
    assertThatThrownBy(
            () ->
                hsm.signDigest(
                    corrupt,
                    KeyPairType.EC_P256,
                    SignatureScheme.ECDSA,
                    DigestAlgorithm.SHA_256,
                    new byte[32]))
        .isExactlyInstanceOf(HsmException.class)
        .hasMessageContaining("C_UnwrapKey");
  }

  @ParameterizedTest
  @EnumSource(HmacType.class)
  void hmac_isStable_andDiffersForAnotherMessageOrKey(HmacType type) {
    WrappedKey key = hsm.generateHmacKey(type);
    WrappedKey otherKey = hsm.generateHmacKey(type);

    assertThat(key.wrapMechanism()).isEqualTo(WrapMechanism.AES_KEY_WRAP_PAD);
    assertThat(key.ekt()).hasSize((type.length() + 7) / 8 * 8 + 8);
    byte[] mac = hsm.generateMac(key, type, MESSAGE);
    assertThat(mac).hasSize(type.length());
    assertThat(hsm.generateMac(key, type, MESSAGE)).isEqualTo(mac);
    assertThat(hsm.generateMac(key, type, "sign me!".getBytes())).isNotEqualTo(mac);
    assertThat(hsm.generateMac(otherKey, type, MESSAGE)).isNotEqualTo(mac);
    assertThat(hsm.generateMac(key, type, new byte[0])).hasSize(type.length());
  }

  @ParameterizedTest
  @EnumSource(
      value = KeyPairType.class,
      names = {"RSA_2048", "EC_P256", "EC_P384", "EC_P521", "EC_SECP256K1"})
  void dataKeyPair_parsesInTheJdk_andItsPrivateKeyMatchesItsPublicKey(KeyPairType type)
      throws Exception {
    DataKeyPair pair = hsm.generateDataKeyPair(type);

    String algorithm = type.isRsa() ? "RSA" : "EC";
    KeyFactory factory =
        type == KeyPairType.EC_SECP256K1
            ? KeyFactory.getInstance(algorithm, BC)
            : KeyFactory.getInstance(algorithm);
    PrivateKey privateKey =
        factory.generatePrivate(new PKCS8EncodedKeySpec(pair.privateKeyPkcs8()));
    PublicKey publicKey =
        factory.generatePublic(new X509EncodedKeySpec(pair.subjectPublicKeyInfo()));
    assertThat(publicKey.getEncoded()).isEqualTo(pair.subjectPublicKeyInfo());
    String signing = type.isRsa() ? "SHA256withRSA" : "SHA256withECDSA";
    Signature signer =
        type == KeyPairType.EC_SECP256K1
            ? Signature.getInstance(signing, BC)
            : Signature.getInstance(signing);
    signer.initSign(privateKey);
    signer.update(MESSAGE);
    assertThat(verify(signing, null, publicKey, type, MESSAGE, signer.sign())).isTrue();
    assertThat(hsm.generateDataKeyPair(type).subjectPublicKeyInfo())
        .isNotEqualTo(pair.subjectPublicKeyInfo());
  }

  private static PublicKey publicKey(String algorithm, WrappedKeyPair pair, KeyPairType type)
      throws Exception {
    KeyFactory factory =
        type == KeyPairType.EC_SECP256K1
            ? KeyFactory.getInstance(algorithm, BC)
            : KeyFactory.getInstance(algorithm);
    return factory.generatePublic(new X509EncodedKeySpec(pair.subjectPublicKeyInfo()));
  }

  private static boolean verify(
      String algorithm,
      PSSParameterSpec pss,
      PublicKey key,
      KeyPairType type,
      byte[] message,
      byte[] signature)
      throws Exception {
    Signature verifier =
        type == KeyPairType.EC_SECP256K1
            ? Signature.getInstance(algorithm, BC)
            : Signature.getInstance(algorithm);
    if (pss != null) {
      verifier.setParameter(pss);
    }
    verifier.initVerify(key);
    verifier.update(message);
    return verifier.verify(signature);
  }

  private static byte[] oaepEncrypt(PublicKey key, DigestAlgorithm hash, byte[] plaintext)
      throws Exception {
    Cipher cipher = Cipher.getInstance("RSA/ECB/OAEPPadding");
    cipher.init(
        Cipher.ENCRYPT_MODE,
        key,
        new OAEPParameterSpec(
            mdName(hash), "MGF1", new MGF1ParameterSpec(mdName(hash)), PSource.PSpecified.DEFAULT));
    return cipher.doFinal(plaintext);
  }

  static byte[] hash(DigestAlgorithm digest, byte[] message) throws Exception {
    return MessageDigest.getInstance(mdName(digest)).digest(message);
  }

  private static String mdName(DigestAlgorithm digest) {
    return switch (digest) {
      case SHA_1 -> "SHA-1";
      case SHA_256 -> "SHA-256";
      case SHA_384 -> "SHA-384";
      case SHA_512 -> "SHA-512";
    };
  }

  private static String jdkName(DigestAlgorithm digest) {
    return mdName(digest).replace("-", "");
  }
}
