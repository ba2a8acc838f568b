package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.domain.DomainKeyCeremony;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Domain-key rotation for private and HMAC keys: the next generation's ceremony creates both domain
 * keys, and an EKT moved to the new asymmetric domain key inside the token is the same key (same
 * MAC, signatures that verify under the old public key, decryption), leaving no object.
 */
class AsymmetricRewrapTest {
  private static final byte[] MESSAGE = "rotate me".getBytes(StandardCharsets.UTF_8);

  private SoftHsmTestToken token;
  private Pkcs11Hsm hsm;

  @AfterEach
  void close() {
    if (hsm != null) {
      hsm.close();
    }
    if (token != null) {
      token.close();
    }
  }

  @Test
  void rewrap_toTheNextGeneration_keepsEachKey_andLeavesNoObject() throws Exception {
    token = SoftHsmTestToken.create();
    hsm = Pkcs11Hsm.open(token.hsmConfig());
    WrappedKeyPair signer = hsm.generateKeyPair(KeyPairType.EC_P384, PrivateKeyUsage.SIGN);
    WrappedKeyPair decrypter = hsm.generateKeyPair(KeyPairType.RSA_2048, PrivateKeyUsage.DECRYPT);
    WrappedKey hmac = hsm.generateHmacKey(HmacType.HMAC_SHA384);
    byte[] mac = hsm.generateMac(hmac, HmacType.HMAC_SHA384, MESSAGE);
    hsm.close();
    hsm = null;

    char[] soPin = token.soPin();
    try {
      assertThat(DomainKeyCeremony.createNextDomainKey(token.modulePath(), token.label(), soPin))
          .isEqualTo(2);
    } finally {
      Arrays.fill(soPin, '\0');
    }

    hsm = Pkcs11Hsm.open(token.hsmConfig());
    assertThat(hsm.currentDomainKeyGeneration()).isEqualTo(2);
    assertThat(hsm.generateHmacKey(HmacType.HMAC_SHA256).domainKeyGeneration()).isEqualTo(2);
    int objects = hsm.visibleObjectCount();

    WrappedKey hmac2 = hsm.rewrapPrivateKey(hmac, null, HmacType.HMAC_SHA384, null, 2);
    WrappedKey signer2 =
        hsm.rewrapPrivateKey(
            signer.privateKey(), KeyPairType.EC_P384, null, PrivateKeyUsage.SIGN, 2);
    WrappedKey decrypter2 =
        hsm.rewrapPrivateKey(
            decrypter.privateKey(), KeyPairType.RSA_2048, null, PrivateKeyUsage.DECRYPT, 2);

    assertThat(hsm.visibleObjectCount()).isEqualTo(objects);
    for (WrappedKey moved : new WrappedKey[] {hmac2, signer2, decrypter2}) {
      assertThat(moved.domainKeyGeneration()).isEqualTo(2);
      assertThat(moved.wrapMechanism()).isEqualTo(WrapMechanism.AES_KEY_WRAP_PAD);
    }
    assertThat(hmac2.ekt()).isNotEqualTo(hmac.ekt());
    assertThat(hsm.generateMac(hmac2, HmacType.HMAC_SHA384, MESSAGE)).isEqualTo(mac);
    // Generation 1 is still there: the old EKT still works (a half-done re-wrap is safe).
    assertThat(hsm.generateMac(hmac, HmacType.HMAC_SHA384, MESSAGE)).isEqualTo(mac);

    byte[] digest = AsymmetricKeysTest.hash(DigestAlgorithm.SHA_384, MESSAGE);
    byte[] signature =
        hsm.signDigest(
            signer2, KeyPairType.EC_P384, SignatureScheme.ECDSA, DigestAlgorithm.SHA_384, digest);
    Signature verifier = Signature.getInstance("SHA384withECDSA");
    verifier.initVerify(publicKey("EC", signer));
    verifier.update(MESSAGE);
    assertThat(verifier.verify(signature)).isTrue();

    Cipher cipher = Cipher.getInstance("RSA/ECB/OAEPPadding");
    cipher.init(
        Cipher.ENCRYPT_MODE,
        publicKey("RSA", decrypter),
        new OAEPParameterSpec(
            "SHA-256", "MGF1", MGF1ParameterSpec.SHA256, PSource.PSpecified.DEFAULT));
    byte[] ciphertext = cipher.doFinal(MESSAGE);
    assertThat(
            hsm.decryptOaep(decrypter2, KeyPairType.RSA_2048, DigestAlgorithm.SHA_256, ciphertext))
        .isEqualTo(MESSAGE);

    assertThatThrownBy(() -> hsm.rewrapPrivateKey(hmac, null, HmacType.HMAC_SHA384, null, 3))
        .isInstanceOf(AsymmetricDomainKeyMissingException.class);
    assertThatThrownBy(
            () ->
                hsm.rewrapPrivateKey(
                    hmac, KeyPairType.EC_P256, HmacType.HMAC_SHA384, PrivateKeyUsage.SIGN, 2))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> hsm.rewrapPrivateKey(hmac, null, null, null, 2))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(hsm.visibleObjectCount()).isEqualTo(objects);
  }

  private static PublicKey publicKey(String algorithm, WrappedKeyPair pair) throws Exception {
    return KeyFactory.getInstance(algorithm)
        .generatePublic(new X509EncodedKeySpec(pair.subjectPublicKeyInfo()));
  }
}
