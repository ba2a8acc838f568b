package io.p11kms.server.service;

import io.p11kms.hsm.Derivation;
import io.p11kms.hsm.Hsm;
import io.p11kms.hsm.HsmDecryptionFailedException;
import io.p11kms.hsm.ImportUnsupportedException;
import io.p11kms.hsm.ImportWrappingKey;
import io.p11kms.hsm.ImportWrappingKeyNotFoundException;
import io.p11kms.hsm.ImportedMaterialLengthException;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.server.store.DomainKeyKind;
import io.p11kms.server.store.ImportedMaterial;
import io.p11kms.server.store.KeyRecord;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyVersionRecord;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GetParametersForImport, ImportKeyMaterial and DeleteImportedKeyMaterial: imported key material of
 * EXTERNAL keys (SYMMETRIC_DEFAULT), as AWS KMS has them.
 *
 * <p>The material crosses into the token only wrapped under an RSA wrapping key the token made for
 * this import; it is unwrapped inside the token straight into a backing key and leaves it only as
 * an EKT under the domain key ({@link Hsm#importBackingKey}). A key's first material stays its
 * material for good: each import computes a check value in the token (AES-GCM of nothing under the
 * material, with a fixed IV and the key id as AAD: the same material gives the same 16 bytes) and a
 * material whose value differs from the stored one is IncorrectKeyMaterialException. The material
 * is the key's one version, whose id is kept while the material is deleted, so that ciphertexts
 * made before decrypt once the same material is imported again.
 */
public final class ImportService {
  private static final Logger log = LoggerFactory.getLogger(ImportService.class);

  /** How long import parameters (the wrapping key and the import token) are valid, as AWS KMS. */
  public static final Duration PARAMETERS_VALID = Duration.ofHours(24);

  /** How far ahead ValidTo may be, as AWS KMS. */
  static final Duration MAX_VALID_TO = Duration.ofDays(365);

  /** EncryptedKeyMaterial at most, as AWS KMS. */
  static final int MAX_ENCRYPTED_MATERIAL_BYTES = 6144;

  private static final byte[] CHECK_IV = new byte[Hsm.IV_LENGTH];
  private static final byte[] CHECK_SALT = new byte[Hsm.SALT_LENGTH];

  /** What GetParametersForImport returns. */
  public record Parameters(
      String keyArn, byte[] importToken, byte[] publicKey, Instant parametersValidTo) {}

  /** What ImportKeyMaterial and DeleteImportedKeyMaterial return. */
  public record Material(String keyArn, UUID keyMaterialId) {}

  private final Hsm hsm;
  private final KeyStore store;
  private final KeyService keys;
  private final Clock clock;
  private final ImportTokens tokens;

  public ImportService(Hsm hsm, KeyStore store, KeyService keys, Clock clock) {
    this.hsm = hsm;
    this.store = store;
    this.keys = keys;
    this.clock = clock;
    this.tokens = new ImportTokens(hsm);
  }

  /**
   * A new RSA wrapping key made in the token and an import token for it, valid {@link
   * #PARAMETERS_VALID}. Any state of an EXTERNAL key but PendingDeletion.
   */
  public Parameters getParametersForImport(
      String keyId, WrappingAlgorithm algorithm, KeySpec wrappingKeySpec) {
    UUID id = keys.resolveKey(keyId, "KeyId");
    if (algorithm == null) {
      throw KmsException.validation("WrappingAlgorithm is required");
    }
    int bits = modulusBits(wrappingKeySpec);
    KeyStates.requireNotPendingDeletion(
        requireExternal(keys.find(id), "GetParametersForImport"), "GetParametersForImport");
    Instant expiresAt = clock.instant().plus(PARAMETERS_VALID).truncatedTo(ChronoUnit.SECONDS);
    ImportWrappingKey wrapping =
        tokenCall(
            "GetParametersForImport",
            () -> hsm.createImportWrappingKey(algorithm.token(), bits, expiresAt));
    byte[] importToken;
    try {
      importToken =
          tokens.issue(new ImportTokens.Contents(id, algorithm, bits, expiresAt, wrapping.id()));
    } catch (RuntimeException e) {
      destroyQuietly(wrapping.id());
      throw e;
    }
    return new Parameters(keys.arn(id), importToken, wrapping.subjectPublicKeyInfo(), expiresAt);
  }

  /**
   * Imports the material {@code encrypted} under the parameters of {@code importToken}: the key
   * becomes Enabled (a key that has its material keeps its state and takes the new expiry).
   */
  public Material importKeyMaterial(
      String keyId,
      byte[] importToken,
      byte[] encrypted,
      Instant validTo,
      ExpirationModel expirationModel) {
    UUID id = keys.resolveKey(keyId, "KeyId");
    if (importToken == null || importToken.length == 0) {
      throw KmsException.validation("ImportToken is required");
    }
    if (encrypted == null || encrypted.length == 0) {
      throw KmsException.validation("EncryptedKeyMaterial is required");
    }
    if (encrypted.length > MAX_ENCRYPTED_MATERIAL_BYTES) {
      throw KmsException.validation(
          "EncryptedKeyMaterial must be at most "
              + MAX_ENCRYPTED_MATERIAL_BYTES
              + " bytes, was "
              + encrypted.length);
    }
    Instant now = clock.instant();
    ExpirationModel model =
        expirationModel == null ? ExpirationModel.KEY_MATERIAL_EXPIRES : expirationModel;
    Instant expiry = validTo(model, validTo, now);
    requireImportable(keys.find(id));

    ImportTokens.Contents contents = tokens.open(importToken);
    if (!contents.keyId().equals(id)) {
      throw new KmsException(
          KmsError.INVALID_IMPORT_TOKEN,
          "The import token was issued for another key: call GetParametersForImport for this one");
    }
    if (!now.isBefore(contents.expiresAt())) {
      throw new KmsException(
          KmsError.EXPIRED_IMPORT_TOKEN,
          "The import token expired at "
              + contents.expiresAt()
              + ": call GetParametersForImport again");
    }
    WrappedKey ekt =
        tokenCall(
            "ImportKeyMaterial",
            () ->
                hsm.importBackingKey(
                    contents.wrappingKeyId(), contents.algorithm().token(), encrypted));
    // The material went through the wrapping key: these parameters are spent, whatever follows.
    try {
      return keep(id, ekt, model, expiry, now);
    } finally {
      destroyQuietly(contents.wrappingKeyId());
    }
  }

  /** Checks the material against the key's and stores it, its EKT and the key's new state. */
  private Material keep(
      UUID id, WrappedKey ekt, ExpirationModel model, Instant expiry, Instant now) {
    byte[] check = checkValue(id, ekt);
    for (int attempt = 0; attempt < KeyLifecycleService.MAX_ATTEMPTS; attempt++) {
      // The key first, then its material: a material stored after this read of the key is seen
      // below (and compared), or changed the key's state (and the compare-and-set fails).
      KeyRecord key = requireImportable(keys.find(id));
      Optional<ImportedMaterial> before = store.findImportedMaterial(id);
      if (before.isPresent() && !MessageDigest.isEqual(before.get().checkValue(), check)) {
        throw new KmsException(
            KmsError.INCORRECT_KEY_MATERIAL,
            "The key material is not the material key '"
                + id
                + "' had: only that material can be imported into it");
      }
      UUID versionId = before.map(ImportedMaterial::versionId).orElseGet(UUID::randomUUID);
      ImportedMaterial material =
          new ImportedMaterial(id, versionId, check, model.name(), expiry, now);
      KeyState state = KeyStates.state(key);
      boolean stored =
          state == KeyState.PENDING_IMPORT
              ? store.storeImportedMaterial(
                  material,
                  state.name(),
                  KeyState.ENABLED.name(),
                  new KeyVersionRecord(
                      id,
                      versionId,
                      1,
                      now,
                      ekt.domainKeyGeneration(),
                      ekt.wrapMechanism().code(),
                      ekt.ekt(),
                      DomainKeyKind.of(ekt.role()),
                      null))
              : store.storeImportedMaterial(material, state.name(), state.name(), null);
      if (stored) {
        log.info("key {}: key material imported ({})", id, model);
        return new Material(keys.arn(id), versionId);
      }
    }
    throw KeyLifecycleService.contended(id);
  }

  /**
   * Deletes the key's material: the key becomes PendingImport (a key pending deletion stays so).
   * Nothing to delete for a key in PendingImport.
   */
  public Material deleteImportedKeyMaterial(String keyId) {
    UUID id = keys.resolveKey(keyId, "KeyId");
    for (int attempt = 0; attempt < KeyLifecycleService.MAX_ATTEMPTS; attempt++) {
      KeyRecord key = requireExternal(keys.find(id), "DeleteImportedKeyMaterial");
      UUID versionId = store.findImportedMaterial(id).map(ImportedMaterial::versionId).orElse(null);
      KeyState state = KeyStates.state(key);
      if (state == KeyState.PENDING_IMPORT) {
        return new Material(keys.arn(id), versionId);
      }
      KeyState after = state == KeyState.PENDING_DELETION ? state : KeyState.PENDING_IMPORT;
      if (store.deleteImportedMaterial(id, state.name(), after.name(), null)) {
        log.info("key {}: imported key material deleted", id);
        return new Material(keys.arn(id), versionId);
      }
    }
    throw KeyLifecycleService.contended(id);
  }

  /** UnsupportedOperationException unless the key's Origin is EXTERNAL. */
  static KeyRecord requireExternal(KeyRecord key, String operation) {
    if (Origin.valueOf(key.origin()) != Origin.EXTERNAL) {
      throw new KmsException(
          KmsError.UNSUPPORTED_OPERATION,
          operation + ": key '" + key.keyId() + "' has Origin " + key.origin() + ", not EXTERNAL");
    }
    return key;
  }

  private static KeyRecord requireImportable(KeyRecord key) {
    return KeyStates.requireNotPendingDeletion(
        requireExternal(key, "ImportKeyMaterial"), "ImportKeyMaterial");
  }

  private static int modulusBits(KeySpec spec) {
    if (spec == null) {
      throw KmsException.validation("WrappingKeySpec is required");
    }
    return switch (spec) {
      case RSA_2048 -> 2048;
      case RSA_3072 -> 3072;
      case RSA_4096 -> 4096;
      default ->
          throw KmsException.validation(
              "WrappingKeySpec must be RSA_2048, RSA_3072 or RSA_4096, was " + spec);
    };
  }

  /** ValidTo as the expiration model wants it: in (now, now + 365 days], or absent. */
  private static Instant validTo(ExpirationModel model, Instant validTo, Instant now) {
    if (model == ExpirationModel.KEY_MATERIAL_DOES_NOT_EXPIRE) {
      if (validTo != null) {
        throw KmsException.validation(
            "ValidTo must be omitted with ExpirationModel KEY_MATERIAL_DOES_NOT_EXPIRE");
      }
      return null;
    }
    if (validTo == null) {
      throw KmsException.validation(
          "ValidTo is required with ExpirationModel KEY_MATERIAL_EXPIRES");
    }
    if (!validTo.isAfter(now) || validTo.isAfter(now.plus(MAX_VALID_TO))) {
      throw KmsException.validation(
          "ValidTo must be in the future and at most 365 days ahead, was " + validTo);
    }
    return validTo.truncatedTo(ChronoUnit.MICROS);
  }

  /**
   * AES-GCM of nothing under the material, in the token, with a fixed IV and the key id as AAD: 16
   * bytes that are the same for the same material and tell nothing of it.
   */
  private byte[] checkValue(UUID keyId, WrappedKey ekt) {
    byte[] aad = ("p11kms imported key material " + keyId).getBytes(StandardCharsets.UTF_8);
    return tokenCall(
        "ImportKeyMaterial",
        () -> hsm.encrypt(ekt, Derivation.NONE_AES_GCM, CHECK_SALT, CHECK_IV, aad, new byte[0]));
  }

  private void destroyQuietly(String wrappingKeyId) {
    try {
      hsm.destroyImportWrappingKey(wrappingKeyId);
    } catch (RuntimeException e) {
      // It expires within 24 hours and the sweep destroys it then.
      log.warn("import wrapping key not destroyed now: {}", e.getMessage());
    }
  }

  /** A token call of the import operations, its failures as AWS names them. */
  private static <T> T tokenCall(String operation, Supplier<T> call) {
    return TokenCalls.call(
        operation,
        () -> {
          try {
            return call.get();
          } catch (ImportUnsupportedException e) {
            throw new KmsException(
                KmsError.UNSUPPORTED_OPERATION,
                "The key store's token cannot unwrap this WrappingAlgorithm inside itself; use"
                    + " RSAES_OAEP_SHA_1 or RSA_AES_KEY_WRAP_SHA_1");
          } catch (ImportWrappingKeyNotFoundException e) {
            throw new KmsException(
                KmsError.INVALID_IMPORT_TOKEN,
                "The import token's wrapping key is gone (used already, or made on another"
                    + " server's token): call GetParametersForImport again");
          } catch (ImportedMaterialLengthException e) {
            throw KmsException.validation(e.getMessage());
          } catch (HsmDecryptionFailedException e) {
            throw new KmsException(
                KmsError.INVALID_CIPHERTEXT,
                "The encrypted key material does not unwrap under the import parameters' wrapping"
                    + " key and algorithm");
          }
        });
  }
}
