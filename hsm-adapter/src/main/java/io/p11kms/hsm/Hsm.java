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
  default Derivation derivationFor(WrappedKey backingKey) {
    return preferredDerivation();
  }

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

  /** What the token says it is (manufacturer, model, serial number, label), read when opened. */
  default TokenIdentity identity() {
    return TokenIdentity.UNKNOWN;
  }

  /**
   * Creates an HMAC-SHA256 key labelled {@code label} in the token (a private, sensitive,
   * non-extractable token object that can only sign and verify) unless one exists. A key counts
   * only if it was generated in the token and was never readable (PRIVATE, ALWAYS_SENSITIVE,
   * NEVER_EXTRACTABLE, LOCAL): another object with the label, imported or once extractable, is
   * ignored here and by {@link #sign}.
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
   * The values of the private data objects labelled {@code label} (token objects only a logged-in
   * user can read or change): none, one, or two when a {@link #replacePrivateData} stopped
   * half-way.
   */
  default java.util.List<byte[]> readPrivateData(String label) {
    throw new UnsupportedOperationException("this token adapter keeps no data objects");
  }

  /**
   * Makes a private data object labelled {@code label} holding {@code value}, then destroys the
   * ones labelled so before.
   */
  default void replacePrivateData(String label, byte[] value) {
    throw new UnsupportedOperationException("this token adapter keeps no data objects");
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
   * @throws EktCannotMoveException when the two generations' domain keys pin different uses for a
   *     backing key (one that derives stays under its generation)
   * @throws HsmException when either generation is not on the token
   */
  default WrappedKey rewrap(WrappedKey ekt, int toGeneration) {
    throw new UnsupportedOperationException("this token adapter does not rotate domain keys");
  }

  // Asymmetric and HMAC keys. Private and HMAC keys are generated in the token and leave it only
  // wrapped (WrapMechanism.AES_KEY_WRAP_PAD) under the domain key of their role,
  // domain-key-asym/<generation> or domain-key-hmac/<generation> (WrappedKey.role). A token
  // without it throws AsymmetricDomainKeyMissingException from every method below but
  // supportedKeyPairTypes.

  /**
   * The key pair types this token can generate (from its mechanism list and a curve probe); {@link
   * KeyPairType#EC_SECP256K1} only if the token can generate it.
   */
  default java.util.Set<KeyPairType> supportedKeyPairTypes() {
    throw new UnsupportedOperationException("this token adapter has no asymmetric keys");
  }

  /**
   * Generates a key pair in the token, as session objects: the private key SENSITIVE, able to do
   * exactly {@code usage}, wrapped at once under the current asymmetric domain key; both objects
   * are destroyed before returning.
   *
   * @throws AsymmetricDomainKeyMissingException when the token has no asymmetric domain key
   * @throws HsmException when the token cannot generate {@code type}
   */
  default WrappedKeyPair generateKeyPair(KeyPairType type, PrivateKeyUsage usage) {
    throw new UnsupportedOperationException("this token adapter has no asymmetric keys");
  }

  /**
   * Generates an HMAC key of {@link HmacType#length()} bytes in the token (SIGN and VERIFY its only
   * usages) and returns it only wrapped under the current HMAC domain key.
   */
  default WrappedKey generateHmacKey(HmacType type) {
    throw new UnsupportedOperationException("this token adapter has no HMAC keys");
  }

  /**
   * Imports {@code value} as an HMAC key: a session object (generic secret, SENSITIVE, SIGN and
   * VERIFY its only usages, wrappable only by a trusted key) made with C_CreateObject, wrapped at
   * once under the current HMAC domain key, and destroyed. For secrets that must be known outside
   * the token once (an access key's secret, shown to the operator at creation) and used only inside
   * it after; {@link #generateMac} with {@link HmacType#HMAC_SHA256} uses the EKT. The caller
   * clears {@code value} after the call.
   *
   * @param value 16 to 128 bytes
   */
  default WrappedKey importHmacKey(byte[] value) {
    throw new UnsupportedOperationException("this token adapter has no HMAC keys");
  }

  /**
   * Signs a digest with a wrapped private key made for {@link PrivateKeyUsage#SIGN}. The caller
   * hashes RAW messages itself.
   *
   * @param type the private key's type (it was generated as)
   * @param scheme RSA_PKCS1_V1_5 (a DigestInfo is built here), RSA_PSS (salt length = digest
   *     length, MGF1 with {@code digest}) or ECDSA
   * @param digestValue exactly {@code digest.length()} bytes
   * @return PKCS#1 signature bytes for RSA; a DER ECDSA-Sig-Value for ECDSA (what AWS KMS returns,
   *     what the JDK's {@code SHA256withECDSA} verifies)
   * @throws IllegalArgumentException when the scheme does not fit the type, or the digest length
   *     does not fit the algorithm
   */
  default byte[] signDigest(
      WrappedKey privateKey,
      KeyPairType type,
      SignatureScheme scheme,
      DigestAlgorithm digest,
      byte[] digestValue) {
    throw new UnsupportedOperationException("this token adapter has no asymmetric keys");
  }

  /**
   * RSAES-OAEP decryption (MGF1 with {@code oaepHash}, no label) with a wrapped RSA private key
   * made for {@link PrivateKeyUsage#DECRYPT}.
   *
   * @param oaepHash SHA_1 or SHA_256
   * @throws HsmDecryptionFailedException when the ciphertext does not decrypt under this key
   */
  default byte[] decryptOaep(
      WrappedKey privateKey, KeyPairType type, DigestAlgorithm oaepHash, byte[] ciphertext) {
    throw new UnsupportedOperationException("this token adapter has no asymmetric keys");
  }

  /**
   * The HMAC of {@code message} under a wrapped HMAC key, computed in the token. VerifyMac is this
   * and a constant-time compare ({@link java.security.MessageDigest#isEqual}) in the caller.
   */
  default byte[] generateMac(WrappedKey hmacKey, HmacType type, byte[] message) {
    throw new UnsupportedOperationException("this token adapter has no HMAC keys");
  }

  /**
   * Generates a customer data key pair in the token and returns it in plaintext (by design, as a
   * data key): the session objects are destroyed before returning, no domain key is involved.
   */
  default DataKeyPair generateDataKeyPair(KeyPairType type) {
    throw new UnsupportedOperationException("this token adapter has no asymmetric keys");
  }

  /**
   * Moves a private or HMAC key EKT to domain key generation {@code toGeneration} inside the token
   * (unwrap as a session object, wrap under that generation's domain key of the key's role,
   * destroy), for domain-key rotation. Give either {@code type} and {@code usage} (a private key)
   * or {@code hmac} (an HMAC key), the others null: the token needs the key's class, type and usage
   * to unwrap it.
   *
   * @throws IllegalArgumentException when neither or both kinds are given
   * @throws AsymmetricDomainKeyMissingException when either generation's asymmetric domain key is
   *     not on the token
   */
  default WrappedKey rewrapPrivateKey(
      WrappedKey ekt,
      KeyPairType typeOrNull,
      HmacType hmacOrNull,
      PrivateKeyUsage usageOrNull,
      int toGeneration) {
    throw new UnsupportedOperationException("this token adapter has no asymmetric keys");
  }

  // Imported key material (Origin EXTERNAL). The customer's material reaches the token only
  // wrapped under a wrapping key pair the token made, is unwrapped inside it into a backing key and
  // leaves it only as an EKT under the current domain key.

  /**
   * Generates an RSA wrapping key pair of {@code modulusBits} (2048, 3072 or 4096) in the token for
   * {@code algorithm}: the private half a token object that can only unwrap (into a backing key, or
   * for RSA-AES key wrap into the ephemeral AES key), kept until {@link #destroyImportWrappingKey}
   * or, once {@code expiresAt} has passed, {@link #destroyExpiredImportWrappingKeys}.
   *
   * @throws ImportUnsupportedException when the token cannot unwrap {@code algorithm} inside itself
   */
  default ImportWrappingKey createImportWrappingKey(
      ImportWrappingAlgorithm algorithm, int modulusBits, java.time.Instant expiresAt) {
    throw new UnsupportedOperationException("this token adapter does not import key material");
  }

  /**
   * Unwraps 256-bit key material wrapped with {@code algorithm} under the wrapping key {@code
   * wrappingKeyId} inside the token and returns it only as a backing key EKT under the current
   * domain key. The wrapping key stays on the token.
   *
   * @throws ImportWrappingKeyNotFoundException when the token holds no wrapping key of that id
   * @throws HsmDecryptionFailedException when {@code encryptedMaterial} does not unwrap under it
   * @throws ImportedMaterialLengthException when the material is not 256 bits
   */
  default WrappedKey importBackingKey(
      String wrappingKeyId, ImportWrappingAlgorithm algorithm, byte[] encryptedMaterial) {
    throw new UnsupportedOperationException("this token adapter does not import key material");
  }

  /** Destroys the wrapping key {@code wrappingKeyId}; false when the token holds none. */
  default boolean destroyImportWrappingKey(String wrappingKeyId) {
    throw new UnsupportedOperationException("this token adapter does not import key material");
  }

  /** Destroys every wrapping key whose expiry is at or before {@code now}; returns how many. */
  default int destroyExpiredImportWrappingKeys(java.time.Instant now) {
    throw new UnsupportedOperationException("this token adapter does not import key material");
  }

  // Multi-Region keys. A backing key goes to another region only wrapped under that region's
  // transport key, which this token's SO trusted (RegionPeering), and is unwrapped only inside the
  // destination's token, which wraps it at once under its own domain key.

  /**
   * This token's transport key for receiving backing keys from other regions: made on first call (a
   * private token object, never extractable, that can only unwrap into a backing key), the same one
   * after. Public values only.
   */
  default TransportKey regionTransportKey() {
    throw new UnsupportedOperationException("this token adapter has no multi-Region keys");
  }

  /**
   * Wraps the backing key {@code ekt} for {@code region} under the transport key trusted for it
   * here: unwrapped as a session object, wrapped with RSAES-OAEP, destroyed.
   *
   * @throws RegionNotPeeredException when no transport key of {@code region} is trusted here
   */
  default RegionWrappedKey wrapForRegion(String region, WrappedKey ekt) {
    throw new UnsupportedOperationException("this token adapter has no multi-Region keys");
  }

  /**
   * Unwraps a backing key sent by another region with this token's transport key and returns it
   * wrapped under the current domain key.
   *
   * @throws RegionNotPeeredException when it was wrapped for another transport key
   * @throws HsmDecryptionFailedException when the bytes do not unwrap
   */
  default WrappedKey receiveFromRegion(RegionWrappedKey sent) {
    throw new UnsupportedOperationException("this token adapter has no multi-Region keys");
  }

  @Override
  void close();
}
