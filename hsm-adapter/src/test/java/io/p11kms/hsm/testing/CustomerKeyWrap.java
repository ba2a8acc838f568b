package io.p11kms.hsm.testing;

import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;

/**
 * Key material wrapped for import as a customer wraps it, with the JDK alone: RSAES-OAEP ({@code
 * RSA/ECB/OAEPPadding}, MGF1 with the same hash) under the wrapping public key, and for RSA-AES key
 * wrap an ephemeral AES-256 key so wrapped, followed by the material under it with AES key wrap
 * with padding ({@code AES/KWP/NoPadding}, RFC 5649).
 */
public final class CustomerKeyWrap {
  private static final SecureRandom RANDOM = new SecureRandom();

  private CustomerKeyWrap() {}

  /** 32 random bytes: the material of a SYMMETRIC_DEFAULT key. */
  public static byte[] newMaterial() {
    byte[] material = new byte[32];
    RANDOM.nextBytes(material);
    return material;
  }

  /**
   * {@code material} wrapped under the DER SubjectPublicKeyInfo {@code publicKey}.
   *
   * @param oaepHash "SHA-1" or "SHA-256"
   * @param ephemeralAesKey whether RSA-AES key wrap (else RSAES-OAEP of the material itself)
   */
  public static byte[] wrap(
      byte[] publicKey, String oaepHash, boolean ephemeralAesKey, byte[] material)
      throws Exception {
    PublicKey key = KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(publicKey));
    Cipher rsa = Cipher.getInstance("RSA/ECB/OAEPPadding");
    rsa.init(
        Cipher.ENCRYPT_MODE,
        key,
        new OAEPParameterSpec(
            oaepHash, "MGF1", new MGF1ParameterSpec(oaepHash), PSource.PSpecified.DEFAULT));
    if (!ephemeralAesKey) {
      return rsa.doFinal(material);
    }
    byte[] aesKey = new byte[32];
    RANDOM.nextBytes(aesKey);
    Cipher kwp = Cipher.getInstance("AES/KWP/NoPadding");
    kwp.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(aesKey, "AES"));
    byte[] wrappedMaterial = kwp.doFinal(material);
    byte[] wrappedKey = rsa.doFinal(aesKey);
    Arrays.fill(aesKey, (byte) 0);
    byte[] out = Arrays.copyOf(wrappedKey, wrappedKey.length + wrappedMaterial.length);
    System.arraycopy(wrappedMaterial, 0, out, wrappedKey.length, wrappedMaterial.length);
    return out;
  }
}
