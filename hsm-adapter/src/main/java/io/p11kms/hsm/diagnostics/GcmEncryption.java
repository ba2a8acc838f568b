package io.p11kms.hsm.diagnostics;

import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.session.DirectCalls;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.params.GCM_MESSAGE_PARAMS;

/**
 * How AES-GCM encryption is called on a token, chosen at start by {@link TokenCapabilities#probe}:
 * tokens differ in which call gives a correct result.
 *
 * <p>Decryption is always the single-part {@code C_Decrypt} over ciphertext and tag, which every
 * token tested runs.
 */
public enum GcmEncryption {
  /** {@code C_EncryptInit} + {@code C_Encrypt}: ciphertext followed by the tag (PKCS#11 2.40). */
  SINGLE_PART,
  /**
   * The PKCS#11 3.0 message API ({@code C_MessageEncryptInit}, {@code C_EncryptMessage}, {@code
   * C_MessageEncryptFinal}), the tag returned in the parameters: for a token whose single-part
   * {@code C_Encrypt} reports a wrong output length (NSS softoken 3.87 reports the plaintext's,
   * without the tag, and then refuses its own length with {@code CKR_BUFFER_TOO_SMALL}).
   */
  MESSAGE;

  /** Tag length in bytes. */
  static final int TAG_BYTES = 16;

  /** AES-GCM encrypts {@code plaintext} under {@code key}: ciphertext followed by the tag. */
  public byte[] encrypt(Session session, long key, byte[] iv, byte[] aad, byte[] plaintext)
      throws PKCS11Exception {
    byte[] additional = aad == null ? new byte[0] : aad;
    if (this == MESSAGE) {
      return encryptMessage(session, key, iv, additional, plaintext);
    }
    DirectCalls.encryptInitGcm(session, key, iv, additional, TAG_BYTES * 8);
    if (plaintext.length > 0) {
      return session.encrypt(plaintext);
    }
    // The wrapper passes an empty array as a NULL pointer, which SoftHSM2's C_Encrypt rejects with
    // CKR_ARGUMENTS_BAD: an empty plaintext goes through C_EncryptFinal alone.
    return session.encryptFinal();
  }

  private static byte[] encryptMessage(
      Session session, long key, byte[] iv, byte[] aad, byte[] plaintext) throws PKCS11Exception {
    byte[] tag = new byte[TAG_BYTES];
    GCM_MESSAGE_PARAMS params =
        new GCM_MESSAGE_PARAMS(iv.clone(), 0, PKCS11Constants.CKG_NO_GENERATE, tag);
    session.messageEncryptInit(new Mechanism(PKCS11Constants.CKM_AES_GCM), key);
    byte[] ciphertext;
    try {
      ciphertext = session.encryptMessage(params, aad, plaintext);
    } finally {
      // Ends the message operation on every path, so the session goes back to its pool clean.
      try {
        session.messageEncryptFinal();
      } catch (PKCS11Exception e) {
        // The operation is over either way.
      }
    }
    byte[] written = params.getParams().pTag;
    if (ciphertext == null) {
      ciphertext = new byte[0];
    }
    if (written == null || written.length != TAG_BYTES || ciphertext.length != plaintext.length) {
      throw new HsmException("the token's C_EncryptMessage returned a malformed AES-GCM result");
    }
    byte[] out = new byte[ciphertext.length + TAG_BYTES];
    System.arraycopy(ciphertext, 0, out, 0, ciphertext.length);
    System.arraycopy(written, 0, out, ciphertext.length, TAG_BYTES);
    return out;
  }

  /** AES-GCM decrypts ciphertext followed by the tag under {@code key}. */
  public static byte[] decrypt(
      Session session, long key, byte[] iv, byte[] aad, byte[] ciphertextAndTag)
      throws PKCS11Exception {
    byte[] additional = aad == null ? new byte[0] : aad;
    DirectCalls.decryptInitGcm(session, key, iv, additional, TAG_BYTES * 8);
    return session.decrypt(ciphertextAndTag);
  }
}
