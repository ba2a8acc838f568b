package io.p11kms.server.service;

import io.p11kms.hsm.Derivation;
import io.p11kms.hsm.EnvelopeKeys;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.server.store.KeyVersionRecord;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Optional;
import java.util.UUID;

/**
 * AES-GCM for the XKS proxy API, in the token under a key version's backing key itself (XKS fixes
 * the cipher: no per-request derivation). The IV comes from the token's generator; the tag is 16
 * bytes; the token's AAD is the specification's: the 2-byte big-endian length of
 * additionalAuthenticatedData, the data, the 1-byte length of ciphertextMetadata, the metadata.
 *
 * <p>ciphertextMetadata (17 bytes) says which version of the key encrypted: a format byte ({@code
 * 1}) and the version's id. Bound into the tag through the AAD, so a changed one fails to decrypt.
 */
final class XksCipher {
  static final int IV_LENGTH = EnvelopeKeys.IV_LENGTH;
  static final int TAG_LENGTH = EnvelopeKeys.TAG_LENGTH;
  static final int METADATA_LENGTH = 17;
  private static final byte METADATA_FORMAT = 1;

  /** Unused by AES-GCM under the backing key itself; the adapter takes one of its length. */
  private static final byte[] NO_SALT = new byte[EnvelopeKeys.SALT_LENGTH];

  private final EnvelopeKeys hsm;

  XksCipher(EnvelopeKeys hsm) {
    this.hsm = hsm;
  }

  /**
   * Encrypts; with {@code integrity}, computes the ciphertextDataIntegrityValue over the output
   * first and then proves that the output decrypts to {@code plaintext} (specification, Appendix
   * C).
   *
   * @throws KmsException INTERNAL when the output does not decrypt back
   */
  XksEncrypted encrypt(
      KeyVersionRecord version, byte[] plaintext, byte[] aad, boolean integrity, String keyName) {
    WrappedKey backingKey = gcmBackingKey(version, keyName);
    byte[] metadata = metadata(version.versionId());
    byte[] tokenAad = tokenAad(aad, metadata);
    // The IV from the token's generator and the encryption in one token call.
    byte[] ivAndSealed =
        TokenCalls.call(
            "XksEncrypt", () -> hsm.encryptWithTokenIv(backingKey, tokenAad, plaintext));
    byte[] iv = Arrays.copyOfRange(ivAndSealed, 0, IV_LENGTH);
    byte[] sealed = Arrays.copyOfRange(ivAndSealed, IV_LENGTH, ivAndSealed.length);
    int split = sealed.length - TAG_LENGTH;
    byte[] ciphertext = Arrays.copyOfRange(sealed, 0, split);
    byte[] tag = Arrays.copyOfRange(sealed, split, sealed.length);
    if (!integrity) {
      return new XksEncrypted(ciphertext, metadata, iv, tag, null);
    }
    byte[] value = integrityValue(aad, metadata, iv, ciphertext, tag);
    byte[] roundTrip;
    try {
      roundTrip =
          TokenCalls.call(
              "XksEncrypt",
              () ->
                  hsm.decrypt(backingKey, Derivation.NONE_AES_GCM, NO_SALT, iv, tokenAad, sealed));
    } catch (KmsException e) {
      throw e.error() == KmsError.INVALID_CIPHERTEXT ? notDecryptable() : e;
    }
    try {
      if (!MessageDigest.isEqual(roundTrip, plaintext)) {
        throw notDecryptable();
      }
    } finally {
      Arrays.fill(roundTrip, (byte) 0);
    }
    return new XksEncrypted(ciphertext, metadata, iv, tag, value);
  }

  /**
   * Decrypts; every input that does not authenticate gets one InvalidCiphertextException.
   *
   * @throws KmsException INVALID_CIPHERTEXT
   */
  byte[] decrypt(
      KeyVersionRecord version,
      byte[] metadata,
      byte[] aad,
      byte[] iv,
      byte[] ciphertext,
      byte[] tag,
      String keyName) {
    if (iv.length != IV_LENGTH || tag.length != TAG_LENGTH) {
      throw invalidCiphertext();
    }
    WrappedKey backingKey = gcmBackingKey(version, keyName);
    byte[] sealed = new byte[ciphertext.length + TAG_LENGTH];
    System.arraycopy(ciphertext, 0, sealed, 0, ciphertext.length);
    System.arraycopy(tag, 0, sealed, ciphertext.length, TAG_LENGTH);
    byte[] tokenAad = tokenAad(aad, metadata);
    try {
      return TokenCalls.call(
          "XksDecrypt",
          () -> hsm.decrypt(backingKey, Derivation.NONE_AES_GCM, NO_SALT, iv, tokenAad, sealed));
    } catch (KmsException e) {
      throw e.error() == KmsError.INVALID_CIPHERTEXT ? invalidCiphertext() : e;
    }
  }

  /** The one failure of every XKS input that does not decrypt. */
  static KmsException invalidCiphertext() {
    return new KmsException(
        KmsError.INVALID_CIPHERTEXT,
        "The ciphertext, ciphertextMetadata, initializationVector, additionalAuthenticatedData or"
            + " authenticationTag is invalid");
  }

  private static KmsException notDecryptable() {
    return new KmsException(
        KmsError.INTERNAL, "The encryption could not be verified to decrypt; retry the request");
  }

  /** The backing key of {@code version}, which must run AES-GCM itself. */
  private WrappedKey gcmBackingKey(KeyVersionRecord version, String keyName) {
    WrappedKey backingKey = EnvelopeCipher.backingKey(version);
    Derivation derivation = TokenCalls.call("Xks", () -> hsm.derivationFor(backingKey));
    if (derivation != Derivation.NONE_AES_GCM) {
      throw new KmsException(
          KmsError.INVALID_KEY_USAGE,
          "External key '"
              + keyName
              + "' has a version made under a domain key generation whose backing keys cannot run"
              + " AES-GCM; rotate the key");
    }
    return backingKey;
  }

  /** ciphertextMetadata naming {@code versionId}. */
  static byte[] metadata(UUID versionId) {
    return ByteBuffer.allocate(METADATA_LENGTH)
        .put(METADATA_FORMAT)
        .putLong(versionId.getMostSignificantBits())
        .putLong(versionId.getLeastSignificantBits())
        .array();
  }

  /** The key version ciphertextMetadata names; empty when it is not this proxy's. */
  static Optional<UUID> versionOf(byte[] metadata) {
    if (metadata == null || metadata.length != METADATA_LENGTH || metadata[0] != METADATA_FORMAT) {
      return Optional.empty();
    }
    ByteBuffer b = ByteBuffer.wrap(metadata, 1, 16);
    return Optional.of(new UUID(b.getLong(), b.getLong()));
  }

  /**
   * The token's AAD: 2-byte big-endian length of {@code aad} || aad || 1-byte length of {@code
   * metadata} || metadata; a null part has length zero.
   */
  static byte[] tokenAad(byte[] aad, byte[] metadata) {
    byte[] a = aad == null ? new byte[0] : aad;
    byte[] m = metadata == null ? new byte[0] : metadata;
    if (a.length > 0xFFFF || m.length > 0xFF) {
      throw new IllegalArgumentException("AAD or metadata too long for its length field");
    }
    return ByteBuffer.allocate(2 + a.length + 1 + m.length)
        .putShort((short) a.length)
        .put(a)
        .put((byte) m.length)
        .put(m)
        .array();
  }

  /**
   * The ciphertextDataIntegrityValue: SHA-256 over additionalAuthenticatedData ||
   * ciphertextMetadata || initializationVector || ciphertext || authenticationTag, an absent part
   * empty.
   */
  static byte[] integrityValue(
      byte[] aad, byte[] metadata, byte[] iv, byte[] ciphertext, byte[] tag) {
    MessageDigest sha256;
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from the JDK", e);
    }
    if (aad != null) {
      sha256.update(aad);
    }
    if (metadata != null) {
      sha256.update(metadata);
    }
    sha256.update(iv);
    sha256.update(ciphertext);
    sha256.update(tag);
    return sha256.digest();
  }
}
