package io.p11kms.server.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.DigestAlgorithm;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import javax.crypto.Cipher;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Verify's software half against signatures the JDK (and, for secp256k1, Bouncy Castle's provider)
 * makes with keys of its own: what Verify accepts is exactly what a standard implementation signs,
 * and nothing else.
 */
class PublicKeyCryptoTest {
  private static final byte[] MESSAGE = "verified in software".getBytes(StandardCharsets.UTF_8);
  private static final Provider BC = new BouncyCastleProvider();

  private static KeyPair rsa;

  @BeforeAll
  static void rsaKey() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    rsa = generator.generateKeyPair();
  }

  @ParameterizedTest
  @EnumSource(
      value = SigningAlgorithm.class,
      names = {"RSASSA_.*"},
      mode = EnumSource.Mode.MATCH_ANY)
  void jdkRsaSignature_verifies_andATamperedOneDoesNot(SigningAlgorithm algorithm)
      throws Exception {
    String hash = "SHA-" + algorithm.digest().length() * 8;
    Signature jdk;
    if (algorithm.name().startsWith("RSASSA_PSS")) {
      jdk = Signature.getInstance("RSASSA-PSS");
      jdk.setParameter(
          new PSSParameterSpec(
              hash, "MGF1", new MGF1ParameterSpec(hash), algorithm.digest().length(), 1));
    } else {
      jdk = Signature.getInstance(hash.replace("-", "") + "withRSA");
    }
    jdk.initSign(rsa.getPrivate());
    jdk.update(MESSAGE);
    byte[] signature = jdk.sign();
    assertVerifiesOnlyAsIs(algorithm, rsa.getPublic().getEncoded(), signature);
  }

  @Test
  void jdkEcdsaSignature_verifiesOnEveryCurve_andATamperedOneDoesNot() throws Exception {
    Object[][] curves = {
      {"secp256r1", SigningAlgorithm.ECDSA_SHA_256, null},
      {"secp384r1", SigningAlgorithm.ECDSA_SHA_384, null},
      {"secp521r1", SigningAlgorithm.ECDSA_SHA_512, null},
      {"secp256k1", SigningAlgorithm.ECDSA_SHA_256, BC},
    };
    for (Object[] curve : curves) {
      Provider provider = (Provider) curve[2];
      KeyPairGenerator generator =
          provider == null
              ? KeyPairGenerator.getInstance("EC")
              : KeyPairGenerator.getInstance("EC", provider);
      generator.initialize(new ECGenParameterSpec((String) curve[0]));
      KeyPair pair = generator.generateKeyPair();
      SigningAlgorithm algorithm = (SigningAlgorithm) curve[1];
      String name = "SHA" + algorithm.digest().length() * 8 + "withECDSA";
      Signature jdk =
          provider == null ? Signature.getInstance(name) : Signature.getInstance(name, provider);
      jdk.initSign(pair.getPrivate());
      jdk.update(MESSAGE);
      assertVerifiesOnlyAsIs(algorithm, pair.getPublic().getEncoded(), jdk.sign());
    }
  }

  @Test
  void signatureOfOneScheme_doesNotVerifyAsAnother() throws Exception {
    Signature jdk = Signature.getInstance("SHA256withRSA");
    jdk.initSign(rsa.getPrivate());
    jdk.update(MESSAGE);
    byte[] pkcs1 = jdk.sign();
    byte[] digest = PublicKeyCrypto.hash(DigestAlgorithm.SHA_256, MESSAGE);
    byte[] spki = rsa.getPublic().getEncoded();
    assertThat(PublicKeyCrypto.verify(SigningAlgorithm.RSASSA_PSS_SHA_256, spki, digest, pkcs1))
        .isFalse();
    assertThat(PublicKeyCrypto.verify(SigningAlgorithm.ECDSA_SHA_256, spki, digest, pkcs1))
        .isFalse();
    assertThat(
            PublicKeyCrypto.verify(SigningAlgorithm.RSASSA_PKCS1_V1_5_SHA_256, spki, digest, pkcs1))
        .isTrue();
  }

  @Test
  void oaepCiphertext_decryptsWithTheJdk_sha1AndSha256() throws Exception {
    for (DigestAlgorithm hash :
        new DigestAlgorithm[] {DigestAlgorithm.SHA_1, DigestAlgorithm.SHA_256}) {
      byte[] ciphertext = PublicKeyCrypto.encryptOaep(hash, rsa.getPublic().getEncoded(), MESSAGE);
      String name = hash == DigestAlgorithm.SHA_1 ? "SHA-1" : "SHA-256";
      Cipher jdk = Cipher.getInstance("RSA/ECB/OAEPPadding");
      jdk.init(
          Cipher.DECRYPT_MODE,
          rsa.getPrivate(),
          new OAEPParameterSpec(
              name, "MGF1", new MGF1ParameterSpec(name), PSource.PSpecified.DEFAULT));
      assertThat(jdk.doFinal(ciphertext)).isEqualTo(MESSAGE);
    }
  }

  @Test
  void rsaPlaintextLimits_areAwsKmsTable() {
    int[][] table = {{256, 214, 190}, {384, 342, 318}, {512, 470, 446}};
    for (int[] row : table) {
      assertThat(EncryptionAlgorithm.RSAES_OAEP_SHA_1.maxPlaintextBytes(row[0])).isEqualTo(row[1]);
      assertThat(EncryptionAlgorithm.RSAES_OAEP_SHA_256.maxPlaintextBytes(row[0]))
          .isEqualTo(row[2]);
    }
    assertThat(KeySpec.RSA_4096.rsaModulusBytes()).isEqualTo(512);
  }

  private static void assertVerifiesOnlyAsIs(
      SigningAlgorithm algorithm, byte[] spki, byte[] signature) {
    byte[] digest = PublicKeyCrypto.hash(algorithm.digest(), MESSAGE);
    assertThat(PublicKeyCrypto.verify(algorithm, spki, digest, signature))
        .as(algorithm.name())
        .isTrue();
    byte[] tampered = signature.clone();
    tampered[tampered.length - 3] ^= 0x10;
    assertThat(PublicKeyCrypto.verify(algorithm, spki, digest, tampered)).isFalse();
    byte[] otherDigest = digest.clone();
    otherDigest[0] ^= 1;
    assertThat(PublicKeyCrypto.verify(algorithm, spki, otherDigest, signature)).isFalse();
    assertThat(PublicKeyCrypto.verify(algorithm, spki, digest, new byte[0])).isFalse();
  }
}
