package io.p11kms.server.service;

import io.p11kms.hsm.Hsm;
import io.p11kms.server.crypto.CiphertextBlob;
import io.p11kms.server.store.KeyInUse;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyVersionRecord;
import java.util.Map;
import java.util.UUID;

/** Encrypt, Decrypt, ReEncrypt, data keys and random bytes. */
public final class CryptoService {
  private final Hsm hsm;
  private final KeyStore store;
  private final KeyService keys;
  private final EnvelopeCipher cipher;

  public CryptoService(Hsm hsm, KeyStore store, KeyService keys) {
    this.hsm = hsm;
    this.store = store;
    this.keys = keys;
    this.cipher = new EnvelopeCipher(hsm);
  }

  public Ciphertext encrypt(String keyId, byte[] plaintext, Map<String, String> context) {
    return encrypt(keys.lookup(), keyId, plaintext, context, null);
  }

  /** As above, with the key read through the request's {@code lookup}. */
  public Ciphertext encrypt(
      KeyLookup lookup, String keyId, byte[] plaintext, Map<String, String> context) {
    return encrypt(lookup, keyId, plaintext, context, null);
  }

  /**
   * Encrypts under a symmetric key (SYMMETRIC_DEFAULT, the default) or, with RSAES_OAEP_*, with an
   * RSA ENCRYPT_DECRYPT key's public key in software (no token call: the public key is public).
   */
  public Ciphertext encrypt(
      KeyLookup lookup,
      String keyId,
      byte[] plaintext,
      Map<String, String> context,
      EncryptionAlgorithm algorithm) {
    Requests.requireKeyId(keyId, "KeyId");
    Requests.requirePlaintext(plaintext);
    Map<String, String> checkedContext =
        Requests.requireEncryptionContext(context, "EncryptionContext");
    EncryptionAlgorithm checkedAlgorithm =
        algorithm == null ? EncryptionAlgorithm.SYMMETRIC_DEFAULT : algorithm;
    if (checkedAlgorithm == EncryptionAlgorithm.SYMMETRIC_DEFAULT) {
      KeyInUse key = lookup.usable(keyId, "KeyId");
      return encryptUnder(key, lookup.arn(key.key().keyId()), plaintext, checkedContext);
    }
    KeyMaterial key = rsaKey(lookup, keyId, checkedAlgorithm, checkedContext, RsaCall.ENCRYPT);
    return encryptRsa(key, checkedAlgorithm, plaintext);
  }

  public Plaintext decrypt(byte[] blob, Map<String, String> context, String keyId) {
    return decrypt(keys.lookup(), blob, context, keyId, null);
  }

  /** As above, with the key read through the request's {@code lookup}. */
  public Plaintext decrypt(
      KeyLookup lookup, byte[] blob, Map<String, String> context, String keyId) {
    return decrypt(lookup, blob, context, keyId, null);
  }

  /**
   * Decrypts a blob; the key comes from the blob. When {@code keyId} is given the blob must name
   * that key. Every blob that does not authenticate gets one and the same InvalidCiphertext. With
   * RSAES_OAEP_* the ciphertext is an RSA one, and {@code keyId} (required) names the RSA key whose
   * private key decrypts it in the token.
   */
  public Plaintext decrypt(
      KeyLookup lookup,
      byte[] blob,
      Map<String, String> context,
      String keyId,
      EncryptionAlgorithm algorithm) {
    Requests.requireCiphertext(blob);
    Map<String, String> checkedContext =
        Requests.requireEncryptionContext(context, "EncryptionContext");
    if (isRsa(algorithm)) {
      return decryptRsa(lookup, blob, checkedContext, keyId, algorithm, RsaCall.DECRYPT);
    }
    UUID expectedKey = blankToNull(keyId) == null ? null : lookup.resolve(keyId, "KeyId");
    if (expectedKey != null) {
      lookup
          .find(expectedKey, null)
          .map(KeyInUse::key)
          .filter(k -> !KeySpec.valueOf(k.keySpec()).isSymmetric())
          .ifPresent(
              k -> {
                throw new KmsException(
                    KmsError.INVALID_KEY_USAGE,
                    "Decrypt: key '"
                        + k.keyId()
                        + "' is "
                        + k.keySpec()
                        + ": give its EncryptionAlgorithm (RSAES_OAEP_SHA_1 or"
                        + " RSAES_OAEP_SHA_256)");
              });
    }
    CiphertextBlob parsed = EnvelopeCipher.parse(lookup, blob);
    if (expectedKey != null && !expectedKey.equals(parsed.keyId())) {
      throw new KmsException(
          KmsError.INCORRECT_KEY, "The ciphertext was not made under key '" + expectedKey + "'");
    }
    KeyInUse key =
        lookup
            .find(parsed.keyId(), parsed.keyVersionId())
            .orElseThrow(() -> missingKey(parsed.keyId()));
    KeyStates.requireUsable(key.key());
    KeyVersionRecord version = key.version().orElseThrow(KmsException::invalidCiphertext);
    byte[] plaintext = cipher.decrypt(version, parsed, checkedContext);
    return new Plaintext(parsed.keyId(), lookup.arn(parsed.keyId()), plaintext);
  }

  /** Decrypts and encrypts again; the plaintext stays in this process and is wiped after. */
  public ReEncrypted reEncrypt(
      byte[] blob,
      Map<String, String> sourceContext,
      String sourceKeyId,
      String destinationKeyId,
      Map<String, String> destinationContext) {
    return reEncrypt(
        keys.lookup(),
        blob,
        sourceContext,
        sourceKeyId,
        null,
        destinationKeyId,
        destinationContext,
        null);
  }

  /**
   * As above, with the keys read through the request's {@code lookup}, and either side symmetric
   * (algorithm null or SYMMETRIC_DEFAULT) or an RSA ENCRYPT_DECRYPT key with RSAES_OAEP_*: an RSA
   * source needs {@code sourceKeyId} (its ciphertext names no key), an RSA destination takes no
   * encryption context. The destination is checked in full before the source is decrypted.
   */
  public ReEncrypted reEncrypt(
      KeyLookup lookup,
      byte[] blob,
      Map<String, String> sourceContext,
      String sourceKeyId,
      EncryptionAlgorithm sourceAlgorithm,
      String destinationKeyId,
      Map<String, String> destinationContext,
      EncryptionAlgorithm destinationAlgorithm) {
    Requests.requireCiphertext(blob);
    Requests.requireKeyId(destinationKeyId, "DestinationKeyId");
    Map<String, String> checkedDestinationContext =
        Requests.requireEncryptionContext(destinationContext, "DestinationEncryptionContext");
    boolean rsaDestination = isRsa(destinationAlgorithm);
    KeyInUse symmetricDestination =
        rsaDestination ? null : lookup.usable(destinationKeyId, "DestinationKeyId");
    KeyMaterial rsaDestinationKey =
        rsaDestination
            ? rsaKey(
                lookup,
                destinationKeyId,
                destinationAlgorithm,
                checkedDestinationContext,
                RsaCall.RE_ENCRYPT_DESTINATION)
            : null;
    Plaintext plaintext =
        isRsa(sourceAlgorithm)
            ? decryptRsa(
                lookup,
                blob,
                Requests.requireEncryptionContext(sourceContext, "SourceEncryptionContext"),
                sourceKeyId,
                sourceAlgorithm,
                RsaCall.RE_ENCRYPT_SOURCE)
            : decrypt(lookup, blob, sourceContext, sourceKeyId, null);
    try {
      Ciphertext ciphertext =
          rsaDestination
              ? encryptRsa(rsaDestinationKey, destinationAlgorithm, plaintext.bytes())
              : encryptUnder(symmetricDestination, plaintext.bytes(), checkedDestinationContext);
      return new ReEncrypted(plaintext.keyId(), plaintext.keyArn(), ciphertext);
    } finally {
      plaintext.wipe();
    }
  }

  /** A data key from the token's generator, returned in plaintext and encrypted. */
  public DataKey generateDataKey(
      String keyId, Map<String, String> context, DataKeySpec spec, Integer numberOfBytes) {
    return generateDataKey(keys.lookup(), keyId, context, spec, numberOfBytes);
  }

  /** As above, with the key read through the request's {@code lookup}. */
  public DataKey generateDataKey(
      KeyLookup lookup,
      String keyId,
      Map<String, String> context,
      DataKeySpec spec,
      Integer numberOfBytes) {
    Requests.requireKeyId(keyId, "KeyId");
    Map<String, String> checkedContext =
        Requests.requireEncryptionContext(context, "EncryptionContext");
    int length = Requests.dataKeyLength(spec, numberOfBytes);
    KeyInUse key = lookup.usable(keyId, "KeyId");
    byte[] dataKey = TokenCalls.call("GenerateDataKey", () -> hsm.generateRandom(length));
    UUID id = key.key().keyId();
    String arn = lookup.arn(id);
    Ciphertext ciphertext = encryptUnder(key, arn, dataKey, checkedContext);
    return new DataKey(ciphertext, new Plaintext(id, arn, dataKey));
  }

  /** As {@link #generateDataKey}, with the plaintext wiped before it can leave. */
  public Ciphertext generateDataKeyWithoutPlaintext(
      String keyId, Map<String, String> context, DataKeySpec spec, Integer numberOfBytes) {
    return generateDataKeyWithoutPlaintext(keys.lookup(), keyId, context, spec, numberOfBytes);
  }

  /** As above, with the key read through the request's {@code lookup}. */
  public Ciphertext generateDataKeyWithoutPlaintext(
      KeyLookup lookup,
      String keyId,
      Map<String, String> context,
      DataKeySpec spec,
      Integer numberOfBytes) {
    DataKey dataKey = generateDataKey(lookup, keyId, context, spec, numberOfBytes);
    dataKey.plaintext().wipe();
    return dataKey.ciphertext();
  }

  public byte[] generateRandom(Integer numberOfBytes) {
    int length = Requests.randomLength(numberOfBytes);
    return TokenCalls.call("GenerateRandom", () -> hsm.generateRandom(length));
  }

  /**
   * The operation an RSA key serves in a request, and the names its parameters have there: error
   * messages name what the caller sent.
   */
  private record RsaCall(
      String operation, String keyParameter, String contextParameter, String algorithmParameter) {
    static final RsaCall ENCRYPT =
        new RsaCall("Encrypt", "KeyId", "EncryptionContext", "EncryptionAlgorithm");
    static final RsaCall DECRYPT =
        new RsaCall("Decrypt", "KeyId", "EncryptionContext", "EncryptionAlgorithm");
    static final RsaCall RE_ENCRYPT_SOURCE =
        new RsaCall(
            "ReEncrypt", "SourceKeyId", "SourceEncryptionContext", "SourceEncryptionAlgorithm");
    static final RsaCall RE_ENCRYPT_DESTINATION =
        new RsaCall(
            "ReEncrypt",
            "DestinationKeyId",
            "DestinationEncryptionContext",
            "DestinationEncryptionAlgorithm");
  }

  /** An RSA ciphertext names no key: {@code keyId} is required. */
  private Plaintext decryptRsa(
      KeyLookup lookup,
      byte[] ciphertext,
      Map<String, String> context,
      String keyId,
      EncryptionAlgorithm algorithm,
      RsaCall call) {
    if (blankToNull(keyId) == null) {
      throw KmsException.validation(
          call.keyParameter() + " is required to decrypt with " + algorithm);
    }
    Requests.requireKeyId(keyId, call.keyParameter());
    KeyMaterial key = rsaKey(lookup, keyId, algorithm, context, call);
    if (ciphertext.length != key.spec().rsaModulusBytes()) {
      throw KmsException.invalidCiphertext();
    }
    byte[] plaintext =
        TokenCalls.call(
            call.operation(),
            () ->
                hsm.decryptOaep(
                    key.wrapped(),
                    key.spec().keyPairType().orElseThrow(),
                    algorithm.oaepHash(),
                    ciphertext));
    return new Plaintext(key.key().keyId(), keys.arn(key.key()), plaintext);
  }

  /**
   * An enabled RSA ENCRYPT_DECRYPT key for an RSAES_OAEP_* algorithm. An encryption context is
   * refused: only symmetric keys bind one, as AWS KMS.
   */
  private KeyMaterial rsaKey(
      KeyLookup lookup,
      String keyId,
      EncryptionAlgorithm algorithm,
      Map<String, String> context,
      RsaCall call) {
    if (!context.isEmpty()) {
      throw KmsException.validation(
          call.contextParameter()
              + " is supported only with symmetric keys, not with "
              + algorithm);
    }
    KeyMaterial key =
        KeyMaterial.of(KeyService.enabledKey(lookup, keyId, call.keyParameter()), store)
            .requireUsage(KeyUsage.ENCRYPT_DECRYPT, call.operation());
    if (!EncryptionAlgorithm.of(key.spec(), key.usage()).contains(algorithm)) {
      throw new KmsException(
          KmsError.INVALID_KEY_USAGE,
          call.operation()
              + ": "
              + call.algorithmParameter()
              + " "
              + algorithm
              + " is not valid with KeySpec "
              + key.spec());
    }
    return key;
  }

  /**
   * OAEP with {@code key}'s public key, in software (no token call: the public key is public);
   * ValidationException past the algorithm's plaintext limit for the key's modulus.
   */
  private Ciphertext encryptRsa(KeyMaterial key, EncryptionAlgorithm algorithm, byte[] plaintext) {
    int max = algorithm.maxPlaintextBytes(key.spec().rsaModulusBytes());
    if (plaintext.length > max) {
      throw KmsException.validation(
          "Plaintext must be at most "
              + max
              + " bytes for "
              + key.spec()
              + " with "
              + algorithm
              + ", was "
              + plaintext.length);
    }
    byte[] ciphertext =
        PublicKeyCrypto.encryptOaep(algorithm.oaepHash(), key.publicKey(), plaintext);
    return new Ciphertext(key.key().keyId(), keys.arn(key.key()), ciphertext);
  }

  /** Encrypts with the ordinary envelope under {@code key}'s latest version. */
  Ciphertext encryptUnder(KeyInUse key, byte[] plaintext, Map<String, String> context) {
    return encryptUnder(key, keys.arn(key.key()), plaintext, context);
  }

  /** As above, with the key's ARN made already ({@link KeyLookup#arn}). */
  private Ciphertext encryptUnder(
      KeyInUse key, String arn, byte[] plaintext, Map<String, String> context) {
    KeyVersionRecord version =
        key.version()
            .orElseThrow(
                () -> new KmsException(KmsError.INTERNAL, "Internal error: key has no version"));
    byte[] blob = cipher.encrypt(version, plaintext, context);
    return new Ciphertext(key.key().keyId(), arn, blob);
  }

  /**
   * A key that was deleted for good leaves a tombstone: its ciphertexts get NotFound. A key id
   * nobody created is what a flipped bit looks like: the same error as a bad tag.
   */
  private KmsException missingKey(UUID keyId) {
    if (store.findDeletedKey(keyId).isPresent()) {
      // The key's account went with it: the message names the key by its id alone.
      return KmsException.notFound("Key '" + keyId + "' has been deleted");
    }
    return KmsException.invalidCiphertext();
  }

  private static boolean isRsa(EncryptionAlgorithm algorithm) {
    return algorithm != null && algorithm != EncryptionAlgorithm.SYMMETRIC_DEFAULT;
  }

  private static String blankToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  /** What ReEncrypt returns: the source key and the new ciphertext. */
  public record ReEncrypted(UUID sourceKeyId, String sourceKeyArn, Ciphertext ciphertext) {
    @Override
    public String toString() {
      return "ReEncrypted[source=" + sourceKeyId + ", " + ciphertext + "]";
    }
  }
}
