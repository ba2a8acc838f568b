package io.p11kms.server.crypto;

import io.p11kms.hsm.Derivation;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * The ciphertext returned by Encrypt, format version 1. See {@code docs/ciphertext-format.md}.
 *
 * <pre>
 * version (1) | key id (16) | key-version id (16) | derivation code (1) | salt (32) | IV (12)
 *   | ciphertext || tag (at least 16)
 * </pre>
 *
 * <p>The first {@value #HEADER_LENGTH} bytes are the header; the whole header is bound into the
 * AES-GCM tag as additional authenticated data (see {@link EncryptionContextEncoder#aad}). Arrays
 * are copied in and out, so an instance is immutable; {@link #toString()} shows no bytes.
 */
public record CiphertextBlob(
    UUID keyId,
    UUID keyVersionId,
    int derivationCode,
    byte[] salt,
    byte[] iv,
    byte[] ciphertextAndTag) {

  /** The format version this class reads and writes. */
  public static final int VERSION = 1;

  /** Bytes before the ciphertext: 1 + 16 + 16 + 1 + 32 + 12. */
  public static final int HEADER_LENGTH = 78;

  public static final int SALT_LENGTH = 32;
  public static final int IV_LENGTH = 12;
  public static final int TAG_LENGTH = 16;

  private static final int UUID_LENGTH = 16;

  public CiphertextBlob {
    checkHeader(keyId, keyVersionId, derivationCode, salt, iv);
    checkCiphertextAndTag(ciphertextAndTag);
    salt = salt.clone();
    iv = iv.clone();
    ciphertextAndTag = ciphertextAndTag.clone();
  }

  private static void checkHeader(
      UUID keyId, UUID keyVersionId, int derivationCode, byte[] salt, byte[] iv) {
    if (keyId == null || keyVersionId == null) {
      throw new IllegalArgumentException("key id and key-version id are required");
    }
    if (derivationCode < 1 || derivationCode > 255) {
      throw new IllegalArgumentException("derivation code must be 1-255, was " + derivationCode);
    }
    if (salt == null || salt.length != SALT_LENGTH) {
      throw new IllegalArgumentException("salt must be " + SALT_LENGTH + " bytes");
    }
    if (iv == null || iv.length != IV_LENGTH) {
      throw new IllegalArgumentException("IV must be " + IV_LENGTH + " bytes");
    }
  }

  private static void checkCiphertextAndTag(byte[] ciphertextAndTag) {
    if (ciphertextAndTag == null || ciphertextAndTag.length < TAG_LENGTH) {
      throw new IllegalArgumentException(
          "ciphertext and tag must be at least " + TAG_LENGTH + " bytes");
    }
  }

  /** Bytes a blob adds to the plaintext: the header and the tag (94). */
  public static int maxPlaintextOverhead() {
    return HEADER_LENGTH + TAG_LENGTH;
  }

  /** The smallest valid blob: a header and a tag over an empty plaintext. */
  public static int minLength() {
    return HEADER_LENGTH + TAG_LENGTH;
  }

  /**
   * Reads a blob. Every failure throws the same {@link MalformedCiphertextException}: null, shorter
   * than a header and a tag, an unknown version, or derivation code 0.
   */
  public static CiphertextBlob parse(byte[] blob) throws MalformedCiphertextException {
    if (blob == null || blob.length < minLength() || (blob[0] & 0xff) != VERSION) {
      throw new MalformedCiphertextException();
    }
    ByteBuffer in = ByteBuffer.wrap(blob);
    in.get();
    UUID keyId = new UUID(in.getLong(), in.getLong());
    UUID keyVersionId = new UUID(in.getLong(), in.getLong());
    int derivationCode = in.get() & 0xff;
    if (derivationCode == 0) {
      throw new MalformedCiphertextException();
    }
    byte[] salt = new byte[SALT_LENGTH];
    in.get(salt);
    byte[] iv = new byte[IV_LENGTH];
    in.get(iv);
    byte[] rest = new byte[in.remaining()];
    in.get(rest);
    return new CiphertextBlob(keyId, keyVersionId, derivationCode, salt, iv, rest);
  }

  /** The derivation named by {@link #derivationCode()}, if this build knows it. */
  public Optional<Derivation> derivation() {
    return Derivation.fromCode(derivationCode);
  }

  /** The first {@value #HEADER_LENGTH} bytes of {@link #toBytes()}: the part bound as AAD. */
  public byte[] header() {
    return writeHeader(ByteBuffer.allocate(HEADER_LENGTH)).array();
  }

  /**
   * The header of a blob that is about to be encrypted: the same bytes {@link #header()} returns
   * once the ciphertext exists, so the AAD can be formed before the AES-GCM call.
   */
  public static byte[] header(
      UUID keyId, UUID keyVersionId, int derivationCode, byte[] salt, byte[] iv) {
    checkHeader(keyId, keyVersionId, derivationCode, salt, iv);
    return writeHeader(
            ByteBuffer.allocate(HEADER_LENGTH), keyId, keyVersionId, derivationCode, salt, iv)
        .array();
  }

  /** The wire form: header followed by ciphertext and tag. */
  public byte[] toBytes() {
    return toBytes(keyId, keyVersionId, derivationCode, salt, iv, ciphertextAndTag);
  }

  /**
   * The wire form of a blob made of these parts, as {@code new CiphertextBlob(...).toBytes()} gives
   * it, written once (the parts are read, not kept).
   */
  public static byte[] toBytes(
      UUID keyId,
      UUID keyVersionId,
      int derivationCode,
      byte[] salt,
      byte[] iv,
      byte[] ciphertextAndTag) {
    checkHeader(keyId, keyVersionId, derivationCode, salt, iv);
    checkCiphertextAndTag(ciphertextAndTag);
    byte[] blob = new byte[HEADER_LENGTH + ciphertextAndTag.length];
    writeHeader(ByteBuffer.wrap(blob), keyId, keyVersionId, derivationCode, salt, iv)
        .put(ciphertextAndTag);
    return blob;
  }

  private ByteBuffer writeHeader(ByteBuffer out) {
    return writeHeader(out, keyId, keyVersionId, derivationCode, salt, iv);
  }

  private static ByteBuffer writeHeader(
      ByteBuffer out, UUID keyId, UUID keyVersionId, int derivationCode, byte[] salt, byte[] iv) {
    out.put((byte) VERSION);
    out.putLong(keyId.getMostSignificantBits()).putLong(keyId.getLeastSignificantBits());
    out.putLong(keyVersionId.getMostSignificantBits())
        .putLong(keyVersionId.getLeastSignificantBits());
    out.put((byte) derivationCode);
    out.put(salt);
    out.put(iv);
    return out;
  }

  @Override
  public byte[] salt() {
    return salt.clone();
  }

  @Override
  public byte[] iv() {
    return iv.clone();
  }

  @Override
  public byte[] ciphertextAndTag() {
    return ciphertextAndTag.clone();
  }

  /** Length of ciphertext and tag, without copying them. */
  public int ciphertextAndTagLength() {
    return ciphertextAndTag.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CiphertextBlob other
        && keyId.equals(other.keyId)
        && keyVersionId.equals(other.keyVersionId)
        && derivationCode == other.derivationCode
        && Arrays.equals(salt, other.salt)
        && Arrays.equals(iv, other.iv)
        && Arrays.equals(ciphertextAndTag, other.ciphertextAndTag);
  }

  @Override
  public int hashCode() {
    int h = Objects.hash(keyId, keyVersionId, derivationCode);
    h = 31 * h + Arrays.hashCode(salt);
    h = 31 * h + Arrays.hashCode(iv);
    return 31 * h + Arrays.hashCode(ciphertextAndTag);
  }

  @Override
  public String toString() {
    return "CiphertextBlob[version="
        + VERSION
        + ", keyId="
        + keyId
        + ", keyVersionId="
        + keyVersionId
        + ", derivationCode="
        + derivationCode
        + ", ciphertextAndTagLength="
        + ciphertextAndTag.length
        + "]";
  }
}
