package io.p11kms.hsm;

/**
 * What the service asks of a PKCS#11 token. Every key generation, wrap, derivation and AES-GCM
 * operation happens inside the token; what crosses this interface is wrapped key material, public
 * parameters, and the caller's own data.
 *
 * <p>Failures: {@link HsmUnavailableException} when the token cannot be reached in time (retry
 * later); {@link HsmDecryptionFailedException} when a ciphertext does not authenticate; any other
 * {@link HsmException} is an internal fault.
 */
public interface Hsm extends AutoCloseable {

  /** Bytes of the per-request salt that the derived key is made from. */
  int SALT_LENGTH = 32;

  /** Bytes of an AES-GCM IV. */
  int IV_LENGTH = 12;

  /** Bytes of an AES-GCM tag, appended to the ciphertext. */
  int TAG_LENGTH = 16;

  /** The derivation this token will be asked for on new encryptions (chosen by the probe). */
  Derivation preferredDerivation();

  /** Generates a new 256-bit HSM backing key in the token and returns it only wrapped. */
  WrappedKey generateBackingKey();

  /**
   * Derives a one-use key from the backing key and {@code salt}, encrypts with AES-GCM and destroys
   * the derived key.
   *
   * @return ciphertext followed by the {@value #TAG_LENGTH}-byte tag
   */
  byte[] encrypt(
      WrappedKey backingKey,
      Derivation derivation,
      byte[] salt,
      byte[] iv,
      byte[] aad,
      byte[] plaintext);

  /**
   * The inverse of {@link #encrypt}.
   *
   * @throws HsmDecryptionFailedException when the tag does not verify (tampered data, wrong AAD)
   */
  byte[] decrypt(
      WrappedKey backingKey,
      Derivation derivation,
      byte[] salt,
      byte[] iv,
      byte[] aad,
      byte[] ciphertextAndTag);

  /** Random bytes from the token's generator. */
  byte[] generateRandom(int numberOfBytes);

  /**
   * Whether the token can be used now. May make a token call (and a recovery) bounded by the call
   * deadline; meant for a periodic health probe, not for the request path.
   */
  default boolean isHealthy() {
    return true;
  }

  /**
   * Creates an HMAC-SHA256 key labelled {@code label} in the token (a private, sensitive,
   * non-extractable token object that can only sign and verify) unless one exists.
   */
  default void createSigningKeyIfAbsent(String label) {
    throw new UnsupportedOperationException("this token adapter does not sign");
  }

  /** HMAC-SHA256 of {@code data} under the token key labelled {@code label}. */
  default byte[] sign(String label, byte[] data) {
    throw new UnsupportedOperationException("this token adapter does not sign");
  }

  /** Whether {@code mac} is the HMAC-SHA256 of {@code data} under the key {@code label}. */
  default boolean verify(String label, byte[] data, byte[] mac) {
    return java.security.MessageDigest.isEqual(sign(label, data), mac);
  }

  /**
   * Looks for domain keys on the token again (another process may have created a generation) and
   * returns the newest generation, which new backing keys are wrapped under from now on.
   */
  default int currentDomainKeyGeneration() {
    throw new UnsupportedOperationException("this token adapter does not rotate domain keys");
  }

  /**
   * Moves an EKT to domain key generation {@code toGeneration} inside the token: unwraps it under
   * its own generation as a session object, wraps that under the new one and destroys it. The
   * backing key never leaves the token in plaintext.
   *
   * @throws HsmException when either generation is not on the token
   */
  default WrappedKey rewrap(WrappedKey ekt, int toGeneration) {
    throw new UnsupportedOperationException("this token adapter does not rotate domain keys");
  }

  @Override
  void close();
}
