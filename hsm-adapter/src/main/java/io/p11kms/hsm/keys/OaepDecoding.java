package io.p11kms.hsm.keys;

import io.p11kms.hsm.DigestAlgorithm;
import io.p11kms.hsm.HsmDecryptionFailedException;
import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.session.Pkcs11Errors;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * EME-OAEP decoding (RFC 8017, 7.1.2 step 3) of what raw RSA ({@code CKM_RSA_X_509}) decrypted in
 * the token, for the OAEP hashes the token will not take in {@code CK_RSA_PKCS_OAEP_PARAMS}
 * (SoftHSM2 2.6.1 takes only SHA-1, and answers {@code CKR_ARGUMENTS_BAD} for SHA-256).
 *
 * <p>Every way to fail ends in the same {@link HsmDecryptionFailedException} after the same work,
 * so that a caller cannot tell them apart (Manger's attack needs to).
 */
final class OaepDecoding {
  private OaepDecoding() {}

  /**
   * The message in {@code encoded}, the raw RSA decryption of a {@code modulusBytes}-byte
   * ciphertext, with an empty label.
   */
  static byte[] decode(byte[] encoded, int modulusBytes, DigestAlgorithm hash) {
    MessageDigest digest = digest(hash);
    int hashLength = digest.getDigestLength();
    if (encoded.length > modulusBytes || modulusBytes < 2 * hashLength + 2) {
      throw new HsmDecryptionFailedException(Pkcs11Errors.DECRYPTION_FAILED);
    }
    byte[] em = new byte[modulusBytes];
    System.arraycopy(encoded, 0, em, modulusBytes - encoded.length, encoded.length);
    byte[] lhash = digest.digest(new byte[0]);
    byte[] seed = Arrays.copyOfRange(em, 1, 1 + hashLength);
    byte[] db = Arrays.copyOfRange(em, 1 + hashLength, modulusBytes);
    xor(seed, mgf1(digest, db, hashLength));
    xor(db, mgf1(digest, seed, db.length));

    int bad = em[0];
    for (int i = 0; i < hashLength; i++) {
      bad |= db[i] ^ lhash[i];
    }
    // Find the 0x01 after the zero padding without branching on secret bytes.
    int index = 0;
    int found = 0;
    for (int i = hashLength; i < db.length; i++) {
      int value = db[i] & 0xff;
      int isOne = ((value ^ 1) - 1) >>> 31;
      int isZero = (value - 1) >>> 31;
      int first = isOne & ~found & 1;
      index |= -first & i;
      found |= first;
      bad |= ~found & ~isZero & ~isOne & 1;
    }
    bad |= ~found & 1;
    Arrays.fill(em, (byte) 0);
    Arrays.fill(seed, (byte) 0);
    if (bad != 0) {
      Arrays.fill(db, (byte) 0);
      throw new HsmDecryptionFailedException(Pkcs11Errors.DECRYPTION_FAILED);
    }
    byte[] message = Arrays.copyOfRange(db, index + 1, db.length);
    Arrays.fill(db, (byte) 0);
    return message;
  }

  private static byte[] mgf1(MessageDigest digest, byte[] seed, int length) {
    byte[] mask = new byte[length];
    byte[] counter = new byte[4];
    for (int offset = 0, i = 0; offset < length; i++) {
      counter[0] = (byte) (i >>> 24);
      counter[1] = (byte) (i >>> 16);
      counter[2] = (byte) (i >>> 8);
      counter[3] = (byte) i;
      digest.update(seed);
      digest.update(counter);
      byte[] block = digest.digest();
      int n = Math.min(block.length, length - offset);
      System.arraycopy(block, 0, mask, offset, n);
      offset += n;
    }
    return mask;
  }

  private static void xor(byte[] target, byte[] mask) {
    for (int i = 0; i < target.length; i++) {
      target[i] ^= mask[i];
    }
  }

  static MessageDigest digest(DigestAlgorithm hash) {
    String name =
        switch (hash) {
          case SHA_1 -> "SHA-1";
          case SHA_256 -> "SHA-256";
          case SHA_384 -> "SHA-384";
          case SHA_512 -> "SHA-512";
        };
    try {
      return MessageDigest.getInstance(name);
    } catch (NoSuchAlgorithmException e) {
      throw new HsmException("the JDK lacks " + name);
    }
  }
}
