package io.p11kms.server.service;

import io.p11kms.hsm.Hsm;
import io.p11kms.server.store.KeyInUse;
import io.p11kms.server.store.KeyRecord;
import io.p11kms.server.store.KeyVersionRecord;
import io.p11kms.server.store.XksKeyRecord;
import java.util.UUID;

/**
 * The external key store (XKS) proxy API's key operations: GetKeyMetadata, Encrypt and Decrypt on
 * the key an operator exposed under an external key id. Every input is checked before any token
 * call; the key is read through the request's {@link KeyLookup}, as its authorisation read it.
 */
public final class XksService {
  /** The only encryptionAlgorithm of version 1 of the API. */
  public static final String AES_GCM = "AES_GCM";

  /** The only ciphertextDataIntegrityValueAlgorithm of version 1 of the API. */
  public static final String SHA_256 = "SHA_256";

  /** The most plaintext (and ciphertext) bytes taken; the specification asks for 4,300. */
  public static final int MAX_DATA = 65_536;

  /** The most additionalAuthenticatedData bytes taken, the specification's. */
  public static final int MAX_AAD = 8192;

  /** The most ciphertextMetadata bytes, the specification's. */
  public static final int MAX_METADATA = 20;

  private final XksCipher cipher;

  public XksService(Hsm hsm) {
    this.cipher = new XksCipher(hsm);
  }

  /** GetKeyMetadata: the usages it was exposed with, and whether the key is enabled. */
  public XksKeyMetadata metadata(KeyLookup lookup, String externalKeyId) {
    Exposed key = exposed(lookup, externalKeyId);
    boolean enabled = KeyStates.state(key.key().key()) == KeyState.ENABLED;
    return new XksKeyMetadata(key.record().usages(), enabled ? "ENABLED" : "DISABLED");
  }

  /** Encrypt under the key's current version. */
  public XksEncrypted encrypt(KeyLookup lookup, String externalKeyId, XksEncryptInput in) {
    requireAlgorithm(in.encryptionAlgorithm());
    requireData(in.plaintext(), "plaintext");
    requireAad(in.additionalAuthenticatedData());
    boolean integrity = in.integrityAlgorithm() != null;
    if (integrity && !in.integrityAlgorithm().equals(SHA_256)) {
      throw KmsException.validation(
          "ciphertextDataIntegrityValueAlgorithm must be " + SHA_256 + " in version 1");
    }
    Exposed key = exposed(lookup, externalKeyId);
    if (!key.record().encrypt()) {
      throw wrongUsage(externalKeyId, "ENCRYPT");
    }
    if (integrity && !key.record().decrypt()) {
      // The proxy vouches for a ciphertext by decrypting it; a key that may not decrypt cannot.
      throw new KmsException(
          KmsError.INVALID_KEY_USAGE,
          "External key '"
              + externalKeyId
              + "' does not allow DECRYPT, which a ciphertextDataIntegrityValue needs");
    }
    KeyVersionRecord version = usable(key, externalKeyId).version().orElseThrow(this::noVersion);
    return cipher.encrypt(
        version, in.plaintext(), in.additionalAuthenticatedData(), integrity, externalKeyId);
  }

  /** Decrypt under the key version the ciphertextMetadata names. */
  public byte[] decrypt(KeyLookup lookup, String externalKeyId, XksDecryptInput in) {
    requireAlgorithm(in.encryptionAlgorithm());
    requireData(in.ciphertext(), "ciphertext");
    requireAad(in.additionalAuthenticatedData());
    require(in.initializationVector(), "initializationVector");
    require(in.authenticationTag(), "authenticationTag");
    if (in.ciphertextMetadata() != null && in.ciphertextMetadata().length > MAX_METADATA) {
      throw KmsException.validation(
          "ciphertextMetadata is " + in.ciphertextMetadata().length + " bytes; at most 20");
    }
    Exposed key = exposed(lookup, externalKeyId);
    if (!key.record().decrypt()) {
      throw wrongUsage(externalKeyId, "DECRYPT");
    }
    usable(key, externalKeyId);
    UUID versionId =
        XksCipher.versionOf(in.ciphertextMetadata()).orElseThrow(XksCipher::invalidCiphertext);
    KeyVersionRecord version =
        lookup
            .find(key.record().keyId(), versionId)
            .flatMap(KeyInUse::version)
            .orElseThrow(XksCipher::invalidCiphertext);
    return cipher.decrypt(
        version,
        in.ciphertextMetadata(),
        in.additionalAuthenticatedData(),
        in.initializationVector(),
        in.ciphertext(),
        in.authenticationTag(),
        externalKeyId);
  }

  private record Exposed(XksKeyRecord record, KeyInUse key) {}

  /** The exposed key and its latest version, or KeyNotFoundException. */
  private static Exposed exposed(KeyLookup lookup, String externalKeyId) {
    if (externalKeyId == null || !XksKeyRecord.EXTERNAL_KEY_ID.matcher(externalKeyId).matches()) {
      throw KmsException.validation(
          "the external key id must be 1-128 characters of A-Z, a-z, 0-9, '.', '_' and '-'");
    }
    XksKeyRecord record = lookup.exposed(externalKeyId).orElseThrow(() -> notFound(externalKeyId));
    KeyInUse key = lookup.find(record.keyId(), null).orElseThrow(() -> notFound(externalKeyId));
    return new Exposed(record, key);
  }

  /** The key must be enabled, and (as exposing checked) an AES key for encryption. */
  private static KeyInUse usable(Exposed exposed, String externalKeyId) {
    KeyRecord key = exposed.key().key();
    if (KeyStates.state(key) != KeyState.ENABLED) {
      throw new KmsException(
          KmsError.INVALID_STATE,
          "External key '" + externalKeyId + "' is " + key.keyState() + ", not ENABLED");
    }
    if (KeyUsage.valueOf(key.keyUsage()) != KeyUsage.ENCRYPT_DECRYPT
        || KeySpec.valueOf(key.keySpec()) != KeySpec.SYMMETRIC_DEFAULT) {
      throw new KmsException(
          KmsError.INVALID_KEY_USAGE, "External key '" + externalKeyId + "' is not an AES key");
    }
    return exposed.key();
  }

  private KmsException noVersion() {
    return new KmsException(KmsError.INTERNAL, "Internal error");
  }

  private static KmsException notFound(String externalKeyId) {
    return KmsException.notFound("External key '" + externalKeyId + "' is not exposed");
  }

  private static KmsException wrongUsage(String externalKeyId, String usage) {
    return new KmsException(
        KmsError.INVALID_KEY_USAGE, "External key '" + externalKeyId + "' does not allow " + usage);
  }

  private static void requireAlgorithm(String algorithm) {
    if (algorithm == null) {
      throw KmsException.validation("encryptionAlgorithm is required");
    }
    if (!algorithm.equals(AES_GCM)) {
      throw KmsException.validation("encryptionAlgorithm must be " + AES_GCM + " in version 1");
    }
  }

  private static void requireData(byte[] data, String name) {
    require(data, name);
    if (data.length > MAX_DATA) {
      throw new KmsException(
          KmsError.UNSUPPORTED_OPERATION,
          name + " is " + data.length + " bytes; this proxy takes at most " + MAX_DATA);
    }
  }

  private static void requireAad(byte[] aad) {
    if (aad != null && aad.length > MAX_AAD) {
      throw new KmsException(
          KmsError.UNSUPPORTED_OPERATION,
          "additionalAuthenticatedData is "
              + aad.length
              + " bytes; this proxy takes at most "
              + MAX_AAD);
    }
  }

  private static void require(byte[] value, String name) {
    if (value == null) {
      throw KmsException.validation(name + " is required");
    }
  }
}
