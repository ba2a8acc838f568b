package io.p11kms.hsm;

/**
 * Asymmetric and HMAC keys. Private and HMAC keys are generated in the token and leave it only
 * wrapped ({@link WrapMechanism#AES_KEY_WRAP_PAD}) under the domain key of their role, {@code
 * domain-key-asym/<generation>} or {@code domain-key-hmac/<generation>} ({@link WrappedKey#role}).
 * A token without it throws {@link AsymmetricDomainKeyMissingException} from every method but
 * {@link #supportedKeyPairTypes}.
 *
 * <p>Failures: {@link HsmUnavailableException} when the token cannot be reached in time; {@link
 * HsmDecryptionFailedException} when a ciphertext does not decrypt; any other {@link HsmException}
 * is an internal fault.
 */
public interface AsymmetricKeys {

  /**
   * The key pair types this token can generate (from its mechanism list and a curve probe); {@link
   * KeyPairType#EC_SECP256K1} only if the token can generate it.
   */
  java.util.Set<KeyPairType> supportedKeyPairTypes();

  /**
   * Generates a key pair in the token, as session objects: the private key SENSITIVE, able to do
   * exactly {@code usage}, wrapped at once under the current asymmetric domain key; both objects
   * are destroyed before returning.
   *
   * @throws AsymmetricDomainKeyMissingException when the token has no asymmetric domain key
   * @throws HsmException when the token cannot generate {@code type}
   */
  WrappedKeyPair generateKeyPair(KeyPairType type, PrivateKeyUsage usage);

  /**
   * Generates an HMAC key of {@link HmacType#length()} bytes in the token (SIGN and VERIFY its only
   * usages) and returns it only wrapped under the current HMAC domain key.
   */
  WrappedKey generateHmacKey(HmacType type);

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
  WrappedKey importHmacKey(byte[] value);

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
  byte[] signDigest(
      WrappedKey privateKey,
      KeyPairType type,
      SignatureScheme scheme,
      DigestAlgorithm digest,
      byte[] digestValue);

  /**
   * RSAES-OAEP decryption (MGF1 with {@code oaepHash}, no label) with a wrapped RSA private key
   * made for {@link PrivateKeyUsage#DECRYPT}.
   *
   * @param oaepHash SHA_1 or SHA_256
   * @throws HsmDecryptionFailedException when the ciphertext does not decrypt under this key
   */
  byte[] decryptOaep(
      WrappedKey privateKey, KeyPairType type, DigestAlgorithm oaepHash, byte[] ciphertext);

  /**
   * The HMAC of {@code message} under a wrapped HMAC key, computed in the token. VerifyMac is this
   * and a constant-time compare ({@link java.security.MessageDigest#isEqual}) in the caller.
   */
  byte[] generateMac(WrappedKey hmacKey, HmacType type, byte[] message);

  /**
   * Generates a customer data key pair in the token and returns it in plaintext (by design, as a
   * data key): the session objects are destroyed before returning, no domain key is involved.
   */
  DataKeyPair generateDataKeyPair(KeyPairType type);

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
  WrappedKey rewrapPrivateKey(
      WrappedKey ekt,
      KeyPairType typeOrNull,
      HmacType hmacOrNull,
      PrivateKeyUsage usageOrNull,
      int toGeneration);
}
