package io.p11kms.hsm;

/**
 * Imported key material (Origin EXTERNAL). The customer's material reaches the token only wrapped
 * under a wrapping key pair the token made, is unwrapped inside it into a backing key and leaves it
 * only as an EKT under the current domain key.
 *
 * <p>Failures: {@link HsmUnavailableException} when the token cannot be reached in time; any other
 * {@link HsmException} is an internal fault.
 */
public interface KeyMaterialImport {

  /**
   * Generates an RSA wrapping key pair of {@code modulusBits} (2048, 3072 or 4096) in the token for
   * {@code algorithm}: the private half a token object that can only unwrap (into a backing key, or
   * for RSA-AES key wrap into the ephemeral AES key), kept until {@link #destroyImportWrappingKey}
   * or, once {@code expiresAt} has passed, {@link #destroyExpiredImportWrappingKeys}.
   *
   * @throws ImportUnsupportedException when the token cannot unwrap {@code algorithm} inside itself
   */
  ImportWrappingKey createImportWrappingKey(
      ImportWrappingAlgorithm algorithm, int modulusBits, java.time.Instant expiresAt);

  /**
   * Unwraps 256-bit key material wrapped with {@code algorithm} under the wrapping key {@code
   * wrappingKeyId} inside the token and returns it only as a backing key EKT under the current
   * domain key. The wrapping key stays on the token.
   *
   * @throws ImportWrappingKeyNotFoundException when the token holds no wrapping key of that id
   * @throws HsmDecryptionFailedException when {@code encryptedMaterial} does not unwrap under it
   * @throws ImportedMaterialLengthException when the material is not 256 bits
   */
  WrappedKey importBackingKey(
      String wrappingKeyId, ImportWrappingAlgorithm algorithm, byte[] encryptedMaterial);

  /** Destroys the wrapping key {@code wrappingKeyId}; false when the token holds none. */
  boolean destroyImportWrappingKey(String wrappingKeyId);

  /** Destroys every wrapping key whose expiry is at or before {@code now}; returns how many. */
  int destroyExpiredImportWrappingKeys(java.time.Instant now);
}
