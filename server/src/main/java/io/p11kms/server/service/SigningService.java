package io.p11kms.server.service;

import io.p11kms.hsm.AsymmetricKeys;
import io.p11kms.server.store.KeyStore;

/**
 * Sign, Verify and GetPublicKey. Every rule is checked before the token is asked: the message or
 * digest, the key's state, usage and spec, the algorithm. Sign hashes a RAW message in software and
 * has the token sign the digest with the private key; Verify and GetPublicKey use the public key
 * only, in software, as public material.
 */
public final class SigningService {
  /** AWS KMS's bound on Verify's Signature. */
  static final int MAX_SIGNATURE_BYTES = 6144;

  private final AsymmetricKeys hsm;
  private final KeyStore store;
  private final KeyService keys;

  public SigningService(AsymmetricKeys hsm, KeyStore store, KeyService keys) {
    this.hsm = hsm;
    this.store = store;
    this.keys = keys;
  }

  /** What Sign and Verify return. */
  public record Signed(String keyArn, byte[] signature, SigningAlgorithm algorithm) {
    public Signed {
      signature = signature.clone();
    }

    @Override
    public byte[] signature() {
      return signature.clone();
    }
  }

  public Signed sign(
      String keyId, byte[] message, MessageType messageType, SigningAlgorithm algorithm) {
    return sign(keys.lookup(), keyId, message, messageType, algorithm);
  }

  /** As above, with the key read through the request's {@code lookup}. */
  public Signed sign(
      KeyLookup lookup,
      String keyId,
      byte[] message,
      MessageType messageType,
      SigningAlgorithm algorithm) {
    Requests.requireKeyId(keyId, "KeyId");
    byte[] digest = digestOf(message, messageType, algorithm);
    KeyMaterial key = signingKey(lookup, keyId, algorithm, "Sign");
    byte[] signature =
        TokenCalls.call(
            "Sign",
            () ->
                hsm.signDigest(
                    key.wrapped(),
                    key.spec().keyPairType().orElseThrow(),
                    algorithm.scheme(),
                    algorithm.digest(),
                    digest));
    return new Signed(keys.arn(key.key()), signature, algorithm);
  }

  /**
   * Verifies with the public key, in software.
   *
   * @throws KmsException KMSInvalidSignatureException when the signature does not verify
   */
  public Signed verify(
      String keyId,
      byte[] message,
      MessageType messageType,
      byte[] signature,
      SigningAlgorithm algorithm) {
    return verify(keys.lookup(), keyId, message, messageType, signature, algorithm);
  }

  /** As above, with the key read through the request's {@code lookup}. */
  public Signed verify(
      KeyLookup lookup,
      String keyId,
      byte[] message,
      MessageType messageType,
      byte[] signature,
      SigningAlgorithm algorithm) {
    Requests.requireKeyId(keyId, "KeyId");
    byte[] digest = digestOf(message, messageType, algorithm);
    if (signature == null || signature.length == 0 || signature.length > MAX_SIGNATURE_BYTES) {
      throw KmsException.validation(
          "Signature is required and must be 1-" + MAX_SIGNATURE_BYTES + " bytes");
    }
    KeyMaterial key = signingKey(lookup, keyId, algorithm, "Verify");
    if (!PublicKeyCrypto.verify(algorithm, key.publicKey(), digest, signature)) {
      throw new KmsException(
          KmsError.INVALID_SIGNATURE,
          "The signature is not valid for this key, algorithm and message");
    }
    return new Signed(keys.arn(key.key()), signature, algorithm);
  }

  /** The public key of an RSA or ECC key; UnsupportedOperationException for any other key. */
  public PublicKeyInfo getPublicKey(String keyId) {
    return getPublicKey(keys.lookup(), keyId);
  }

  /** As above, with the key read through the request's {@code lookup}. */
  public PublicKeyInfo getPublicKey(KeyLookup lookup, String keyId) {
    Requests.requireKeyId(keyId, "KeyId");
    KeyMaterial key = KeyMaterial.of(KeyService.enabledKey(lookup, keyId, "KeyId"), store);
    if (!key.spec().isAsymmetric()) {
      throw new KmsException(
          KmsError.UNSUPPORTED_OPERATION,
          "GetPublicKey: key '"
              + key.key().keyId()
              + "' is "
              + key.spec()
              + ": it has no public key");
    }
    return new PublicKeyInfo(
        key.key().keyId(),
        keys.arn(key.key()),
        key.publicKey(),
        key.spec(),
        key.usage(),
        EncryptionAlgorithm.of(key.spec(), key.usage()),
        SigningAlgorithm.of(key.spec(), key.usage()));
  }

  /** The digest to sign or verify: a RAW message hashed here, or the caller's DIGEST as is. */
  private static byte[] digestOf(
      byte[] message, MessageType messageType, SigningAlgorithm algorithm) {
    if (algorithm == null) {
      throw KmsException.validation("SigningAlgorithm is required");
    }
    MessageType type = messageType == null ? MessageType.RAW : messageType;
    if (message == null || message.length == 0 || message.length > Requests.MAX_PLAINTEXT_BYTES) {
      throw KmsException.validation("Message is required and must be 1-4096 bytes");
    }
    if (type == MessageType.RAW) {
      return PublicKeyCrypto.hash(algorithm.digest(), message);
    }
    if (message.length != algorithm.digest().length()) {
      throw KmsException.validation(
          "Message of type DIGEST must be "
              + algorithm.digest().length()
              + " bytes for "
              + algorithm
              + ", was "
              + message.length);
    }
    return message.clone();
  }

  /** An enabled SIGN_VERIFY key whose spec supports {@code algorithm}. */
  private KeyMaterial signingKey(
      KeyLookup lookup, String keyId, SigningAlgorithm algorithm, String operation) {
    KeyMaterial key =
        KeyMaterial.of(KeyService.enabledKey(lookup, keyId, "KeyId"), store)
            .requireUsage(KeyUsage.SIGN_VERIFY, operation);
    if (!SigningAlgorithm.of(key.spec(), key.usage()).contains(algorithm)) {
      throw new KmsException(
          KmsError.INVALID_KEY_USAGE,
          operation
              + ": SigningAlgorithm "
              + algorithm
              + " is not valid with KeySpec "
              + key.spec()
              + "; valid: "
              + SigningAlgorithm.of(key.spec(), key.usage()));
    }
    return key;
  }
}
