package io.p11kms.hsm;

/**
 * Envelope encryption inside the token: backing keys generated there and returned only wrapped,
 * AES-GCM under them, and the token's random generator.
 *
 * <p>Failures: {@link HsmUnavailableException} when the token cannot be reached in time (retry
 * later); {@link HsmDecryptionFailedException} when a ciphertext does not authenticate; any other
 * {@link HsmException} is an internal fault.
 */
public interface EnvelopeKeys {

  /**
   * Bytes of the per-request salt: what a derived key is made from, and authenticated with every
   * ciphertext.
   */
  int SALT_LENGTH = 32;

  /** Bytes of an AES-GCM IV. */
  int IV_LENGTH = 12;

  /** Bytes of an AES-GCM tag, appended to the ciphertext. */
  int TAG_LENGTH = 16;

  /**
   * The derivation this token uses for new encryptions under backing keys of its current domain key
   * generation (chosen by the probe).
   */
  Derivation preferredDerivation();

  /**
   * The derivation a new encryption under {@code backingKey} uses: what the domain key generation
   * it is wrapped under lets a backing key do. Write it into the ciphertext before encrypting.
   */
  Derivation derivationFor(WrappedKey backingKey);

  /** Generates a new 256-bit HSM backing key in the token and returns it only wrapped. */
  WrappedKey generateBackingKey();

  /**
   * Encrypts with AES-GCM under the key {@code derivation} names: the backing key itself ({@link
   * Derivation#NONE_AES_GCM}), or a one-use key derived from it and {@code salt}, destroyed after.
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
   * AES-GCM under the backing key itself ({@link Derivation#NONE_AES_GCM}) with a fresh {@value
   * #IV_LENGTH}-byte IV from the token's generator, both in one token call (for callers whose IV
   * must come from the token). {@link #decrypt} with that IV, derivation {@link
   * Derivation#NONE_AES_GCM} and any salt of its length opens it.
   *
   * @return the IV, then the ciphertext, then the {@value #TAG_LENGTH}-byte tag
   */
  default byte[] encryptWithTokenIv(WrappedKey backingKey, byte[] aad, byte[] plaintext) {
    byte[] iv = generateRandom(IV_LENGTH);
    byte[] sealed =
        encrypt(backingKey, Derivation.NONE_AES_GCM, new byte[SALT_LENGTH], iv, aad, plaintext);
    byte[] out = new byte[IV_LENGTH + sealed.length];
    System.arraycopy(iv, 0, out, 0, IV_LENGTH);
    System.arraycopy(sealed, 0, out, IV_LENGTH, sealed.length);
    return out;
  }

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
}
