package io.p11kms.hsm;

import io.p11kms.hsm.domain.DomainKeyRole;
import io.p11kms.hsm.keys.AsymmetricChecks;
import io.p11kms.hsm.keys.PrivateKeyTemplates;
import io.p11kms.hsm.keys.PrivateKeys;
import io.p11kms.hsm.session.StepCalls;
import java.util.Set;
import org.xipki.pkcs11.wrapper.AttributeVector;

/**
 * {@link AsymmetricKeys} over a PKCS#11 token: checks each request's arguments before any token
 * call ({@link AsymmetricChecks}) and runs it through {@link PrivateKeys} as {@link StepCalls}.
 */
final class Pkcs11AsymmetricKeys implements AsymmetricKeys {
  private final StepCalls calls;
  private final PrivateKeys privateKeys;

  Pkcs11AsymmetricKeys(StepCalls calls, PrivateKeys privateKeys) {
    this.calls = calls;
    this.privateKeys = privateKeys;
  }

  @Override
  public Set<KeyPairType> supportedKeyPairTypes() {
    Set<KeyPairType> probed = privateKeys.probed();
    if (probed != null) {
      return probed;
    }
    return calls.run("probe key pair types", (session, step) -> privateKeys.supported(session));
  }

  @Override
  public WrappedKeyPair generateKeyPair(KeyPairType type, PrivateKeyUsage usage) {
    AsymmetricChecks.keyPair(type, usage);
    return calls.run(
        "generate key pair",
        keyGenerationDeadline(type),
        (session, step) -> privateKeys.generateKeyPair(session, step, type, usage));
  }

  @Override
  public WrappedKey generateHmacKey(HmacType type) {
    AsymmetricChecks.require(type != null, "an HMAC type is required");
    return calls.run(
        "generate HMAC key", (session, step) -> privateKeys.generateHmacKey(session, step, type));
  }

  @Override
  public WrappedKey importHmacKey(byte[] value) {
    AsymmetricChecks.importHmac(value);
    return calls.run(
        "import HMAC key", (session, step) -> privateKeys.importHmacKey(session, step, value));
  }

  @Override
  public byte[] signDigest(
      WrappedKey privateKey,
      KeyPairType type,
      SignatureScheme scheme,
      DigestAlgorithm digest,
      byte[] digestValue) {
    AsymmetricChecks.sign(privateKey, type, scheme, digest, digestValue);
    return calls.run(
        "sign",
        (session, step) ->
            privateKeys.signDigest(session, step, privateKey, type, scheme, digest, digestValue));
  }

  /**
   * {@inheritDoc}
   *
   * <p>A ciphertext of the wrong length and one the token rejects give the same {@link
   * HsmDecryptionFailedException}; an EKT that does not unwrap is an internal fault (it came from
   * the key store, not the caller).
   */
  @Override
  public byte[] decryptOaep(
      WrappedKey privateKey, KeyPairType type, DigestAlgorithm oaepHash, byte[] ciphertext) {
    AsymmetricChecks.decrypt(privateKey, type, oaepHash, ciphertext);
    return calls.run(
        "decrypt",
        (session, step) ->
            privateKeys.decryptOaep(session, step, privateKey, type, oaepHash, ciphertext));
  }

  @Override
  public byte[] generateMac(WrappedKey hmacKey, HmacType type, byte[] message) {
    AsymmetricChecks.mac(hmacKey, type, message);
    return calls.run(
        "generate MAC",
        (session, step) -> privateKeys.generateMac(session, step, hmacKey, type, message));
  }

  @Override
  public DataKeyPair generateDataKeyPair(KeyPairType type) {
    AsymmetricChecks.require(type != null, "a key pair type is required");
    return calls.run(
        "generate data key pair",
        keyGenerationDeadline(type),
        (session, step) -> privateKeys.generateDataKeyPair(session, step, type));
  }

  /**
   * {@inheritDoc}
   *
   * <p>For the server's domain-key rotation: the EKTs of private and HMAC keys move to {@code
   * toGeneration}'s asymmetric domain key, as {@link TokenAdministration#rewrap} moves HBKs to its
   * domain key.
   */
  @Override
  public WrappedKey rewrapPrivateKey(
      WrappedKey ekt,
      KeyPairType typeOrNull,
      HmacType hmacOrNull,
      PrivateKeyUsage usageOrNull,
      int toGeneration) {
    AsymmetricChecks.rewrap(ekt, typeOrNull, hmacOrNull, usageOrNull, toGeneration);
    AttributeVector template =
        hmacOrNull != null
            ? PrivateKeyTemplates.hmacKey(true)
            : PrivateKeyTemplates.privateKey(typeOrNull, usageOrNull, true);
    DomainKeyRole toRole = hmacOrNull != null ? DomainKeyRole.HMAC : DomainKeyRole.ASYMMETRIC;
    return calls.run(
        "rewrap private key",
        (session, step) -> privateKeys.rewrap(session, step, ekt, template, toGeneration, toRole));
  }

  /** RSA key generation gets {@link StepCalls#RSA_GENERATION_DEADLINE_FACTOR} call deadlines. */
  private static int keyGenerationDeadline(KeyPairType type) {
    return type.isRsa() ? StepCalls.RSA_GENERATION_DEADLINE_FACTOR : 1;
  }
}
