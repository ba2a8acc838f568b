package io.p11kms.server.service;

import io.p11kms.hsm.AsymmetricKeys;
import io.p11kms.hsm.DataKeyPair;
import io.p11kms.hsm.KeyPairType;
import io.p11kms.server.store.KeyInUse;
import java.util.Map;
import java.util.UUID;

/**
 * GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext: the token makes an RSA or ECC pair
 * for the caller; the PKCS#8 private key is encrypted under a symmetric ENCRYPT_DECRYPT key by the
 * same envelope as Encrypt (with the encryption context), so Decrypt opens it.
 */
public final class DataKeyPairService {
  private final AsymmetricKeys hsm;
  private final KeyService keys;
  private final CryptoService crypto;

  public DataKeyPairService(AsymmetricKeys hsm, KeyService keys, CryptoService crypto) {
    this.hsm = hsm;
    this.keys = keys;
    this.crypto = crypto;
  }

  /**
   * A data key pair. {@link #privateKey()} holds the plaintext PKCS#8 (wipe it once the response is
   * built); {@link #toString()} never shows it.
   */
  public record Pair(
      Ciphertext privateKeyCiphertext, Plaintext privateKey, byte[] publicKey, KeySpec spec) {
    public Pair {
      publicKey = publicKey.clone();
    }

    @Override
    public byte[] publicKey() {
      return publicKey.clone();
    }

    @Override
    public String toString() {
      return "DataKeyPair[" + spec + ", " + privateKeyCiphertext + "]";
    }
  }

  public Pair generateDataKeyPair(String keyId, Map<String, String> context, KeySpec spec) {
    return generateDataKeyPair(keys.lookup(), keyId, context, spec);
  }

  /** As above, with the key read through the request's {@code lookup}. */
  public Pair generateDataKeyPair(
      KeyLookup lookup, String keyId, Map<String, String> context, KeySpec spec) {
    Requests.requireKeyId(keyId, "KeyId");
    Map<String, String> checkedContext =
        Requests.requireEncryptionContext(context, "EncryptionContext");
    if (spec == null || !spec.isAsymmetric()) {
      throw KmsException.validation(
          "KeyPairSpec is required: RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384,"
              + " ECC_NIST_P521 or ECC_SECG_P256K1");
    }
    KeyPairType type = spec.keyPairType().orElseThrow();
    if (!hsm.supportedKeyPairTypes().contains(type)) {
      throw new KmsException(
          KmsError.UNSUPPORTED_OPERATION,
          "KeyPairSpec " + spec + " is not supported by this key store's token");
    }
    KeyInUse key = lookup.usable(keyId, "KeyId");
    DataKeyPair pair = TokenCalls.call("GenerateDataKeyPair", () -> hsm.generateDataKeyPair(type));
    UUID id = key.key().keyId();
    Plaintext privateKey = new Plaintext(id, keys.arn(key.key()), pair.privateKeyPkcs8());
    try {
      Ciphertext ciphertext = crypto.encryptUnder(key, privateKey.bytes(), checkedContext);
      return new Pair(ciphertext, privateKey, pair.subjectPublicKeyInfo(), spec);
    } catch (RuntimeException e) {
      privateKey.wipe();
      throw e;
    }
  }

  /** As {@link #generateDataKeyPair}, with the plaintext private key wiped before it can leave. */
  public Pair generateDataKeyPairWithoutPlaintext(
      String keyId, Map<String, String> context, KeySpec spec) {
    return generateDataKeyPairWithoutPlaintext(keys.lookup(), keyId, context, spec);
  }

  /** As above, with the key read through the request's {@code lookup}. */
  public Pair generateDataKeyPairWithoutPlaintext(
      KeyLookup lookup, String keyId, Map<String, String> context, KeySpec spec) {
    Pair pair = generateDataKeyPair(lookup, keyId, context, spec);
    pair.privateKey().wipe();
    return new Pair(pair.privateKeyCiphertext(), null, pair.publicKey(), spec);
  }
}
