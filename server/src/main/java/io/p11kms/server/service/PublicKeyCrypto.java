package io.p11kms.server.service;

import io.p11kms.hsm.DigestAlgorithm;
import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import javax.crypto.Cipher;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import org.bouncycastle.crypto.Digest;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.digests.SHA384Digest;
import org.bouncycastle.crypto.digests.SHA512Digest;
import org.bouncycastle.crypto.engines.RSAEngine;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.RSAKeyParameters;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.signers.PSSSigner;
import org.bouncycastle.crypto.signers.StandardDSAEncoding;
import org.bouncycastle.crypto.util.PublicKeyFactory;

/**
 * What the service does with public keys, in software: hashing RAW messages, verifying signatures
 * and RSA OAEP encryption. Public keys are public material; only private and HMAC keys stay in the
 * token. The JDK where it can (hashes, PKCS#1 v1.5 over a DigestInfo, OAEP), Bouncy Castle's
 * lightweight API where it cannot (PSS over a digest, ECDSA on secp256k1).
 */
final class PublicKeyCrypto {
  private PublicKeyCrypto() {}

  static byte[] hash(DigestAlgorithm algorithm, byte[] message) {
    try {
      return MessageDigest.getInstance(jdkName(algorithm)).digest(message);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no " + algorithm, e);
    }
  }

  /**
   * Whether {@code signature} is a valid {@code algorithm} signature of {@code digest} under the
   * public key {@code subjectPublicKeyInfo}. Malformed signatures are simply not valid.
   */
  static boolean verify(
      SigningAlgorithm algorithm, byte[] subjectPublicKeyInfo, byte[] digest, byte[] signature) {
    try {
      return switch (algorithm.scheme()) {
        case RSA_PKCS1_V1_5 -> verifyPkcs1(algorithm, subjectPublicKeyInfo, digest, signature);
        case RSA_PSS -> verifyPss(algorithm, subjectPublicKeyInfo, digest, signature);
        case ECDSA -> verifyEcdsa(subjectPublicKeyInfo, digest, signature);
      };
    } catch (GeneralSecurityException | IOException | RuntimeException e) {
      return false;
    }
  }

  /** RSAES-OAEP with MGF1 of the same hash and no label, as AWS KMS's RSAES_OAEP_SHA_*. */
  static byte[] encryptOaep(DigestAlgorithm hash, byte[] subjectPublicKeyInfo, byte[] plaintext) {
    try {
      Cipher cipher = Cipher.getInstance("RSA/ECB/OAEPPadding");
      cipher.init(
          Cipher.ENCRYPT_MODE,
          rsaPublicKey(subjectPublicKeyInfo),
          new OAEPParameterSpec(
              jdkName(hash),
              "MGF1",
              new MGF1ParameterSpec(jdkName(hash)),
              PSource.PSpecified.DEFAULT));
      return cipher.doFinal(plaintext);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("RSA OAEP encryption failed: " + e.getClass().getName());
    }
  }

  private static boolean verifyPkcs1(
      SigningAlgorithm algorithm, byte[] spki, byte[] digest, byte[] signature)
      throws GeneralSecurityException {
    // NONEwithRSA verifies PKCS#1 v1.5 over exactly the bytes given: the DigestInfo.
    Signature verifier = Signature.getInstance("NONEwithRSA");
    verifier.initVerify(rsaPublicKey(spki));
    verifier.update(DigestInfos.prefix(algorithm.digest()));
    verifier.update(digest);
    return verifier.verify(signature);
  }

  private static boolean verifyPss(
      SigningAlgorithm algorithm, byte[] spki, byte[] digest, byte[] signature) throws IOException {
    AsymmetricKeyParameter key = PublicKeyFactory.createKey(spki);
    if (!(key instanceof RSAKeyParameters)) {
      return false;
    }
    int saltLength = algorithm.digest().length();
    PSSSigner pss =
        PSSSigner.createRawSigner(
            new RSAEngine(),
            bcDigest(algorithm.digest()),
            bcDigest(algorithm.digest()),
            saltLength,
            PSSSigner.TRAILER_IMPLICIT);
    pss.init(false, key);
    pss.update(digest, 0, digest.length);
    return pss.verifySignature(signature);
  }

  private static boolean verifyEcdsa(byte[] spki, byte[] digest, byte[] signature)
      throws IOException {
    AsymmetricKeyParameter key = PublicKeyFactory.createKey(spki);
    if (!(key instanceof ECPublicKeyParameters ec)) {
      return false;
    }
    // Strict DER: a re-encoding must give the same bytes, so one signature has one encoding.
    BigInteger[] rs = StandardDSAEncoding.INSTANCE.decode(ec.getParameters().getN(), signature);
    ECDSASigner ecdsa = new ECDSASigner();
    ecdsa.init(false, ec);
    return ecdsa.verifySignature(digest, rs[0], rs[1]);
  }

  private static PublicKey rsaPublicKey(byte[] spki) throws GeneralSecurityException {
    return KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(spki));
  }

  private static Digest bcDigest(DigestAlgorithm algorithm) {
    return switch (algorithm) {
      case SHA_256 -> new SHA256Digest();
      case SHA_384 -> new SHA384Digest();
      case SHA_512 -> new SHA512Digest();
      case SHA_1 -> throw new IllegalArgumentException("no signing algorithm uses SHA-1");
    };
  }

  private static String jdkName(DigestAlgorithm algorithm) {
    return switch (algorithm) {
      case SHA_1 -> "SHA-1";
      case SHA_256 -> "SHA-256";
      case SHA_384 -> "SHA-384";
      case SHA_512 -> "SHA-512";
    };
  }

  /** The DER DigestInfo header before the digest value (RFC 8017, section 9.2, note 1). */
  private static final class DigestInfos {
    private DigestInfos() {}

    static byte[] prefix(DigestAlgorithm algorithm) {
      return switch (algorithm) {
        case SHA_256 -> hex("3031300d060960864801650304020105000420");
        case SHA_384 -> hex("3041300d060960864801650304020205000430");
        case SHA_512 -> hex("3051300d060960864801650304020305000440");
        case SHA_1 -> throw new IllegalArgumentException("no signing algorithm uses SHA-1");
      };
    }

    private static byte[] hex(String s) {
      return java.util.HexFormat.of().parseHex(s);
    }
  }
}
