package io.p11kms.server.service;

import io.p11kms.hsm.Hsm;
import io.p11kms.hsm.PrivateKeyUsage;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.hsm.WrappedKeyPair;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.AliasRecord;
import io.p11kms.server.store.DomainKeyKind;
import io.p11kms.server.store.KeyPage;
import io.p11kms.server.store.KeyRecord;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyVersionRecord;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/** Creates, describes and lists keys; finds the key a KeyId parameter names. */
public final class KeyService {
  private static final String ORIGIN = "AWS_KMS";

  private final Hsm hsm;
  private final KeyStore store;
  private final KeyArns arns;
  private final KeyIdentifiers identifiers;
  private final Clock clock;

  public KeyService(Hsm hsm, KeyStore store, KeyArns arns, Clock clock) {
    this.hsm = hsm;
    this.store = store;
    this.arns = arns;
    this.identifiers =
        new KeyIdentifiers(arns, name -> store.findAlias(name).map(AliasRecord::keyId));
    this.clock = clock;
  }

  public KeyMetadata createKey(String description, KeyUsage usage, KeySpec spec) {
    return createKey(description, usage, spec, List.of());
  }

  /**
   * Generates the key material in the token (a backing key, a key pair or an HMAC key) and stores
   * the key with its first version and its tags in one transaction: a failure on either side leaves
   * nothing behind. KeySpec and KeyUsage default to SYMMETRIC_DEFAULT and ENCRYPT_DECRYPT, and must
   * be a pair AWS KMS allows (ValidationException); a spec the token cannot generate is
   * UnsupportedOperationException.
   */
  public KeyMetadata createKey(String description, KeyUsage usage, KeySpec spec, List<Tag> tags) {
    String checkedDescription = Requests.requireDescription(description);
    Map<String, String> checkedTags = Tags.require(tags, false);
    KeyUsage keyUsage = usage == null ? KeyUsage.ENCRYPT_DECRYPT : usage;
    KeySpec keySpec = spec == null ? KeySpec.SYMMETRIC_DEFAULT : spec;
    if (!keySpec.usages().contains(keyUsage)) {
      throw KmsException.validation(
          "KeyUsage "
              + keyUsage
              + " is not valid with KeySpec "
              + keySpec
              + "; valid: "
              + keySpec.usages().stream().map(Enum::name).sorted().toList());
    }
    keySpec
        .keyPairType()
        .filter(type -> !hsm.supportedKeyPairTypes().contains(type))
        .ifPresent(
            type -> {
              throw new KmsException(
                  KmsError.UNSUPPORTED_OPERATION,
                  "KeySpec " + keySpec + " is not supported by this key store's token");
            });

    Instant now = clock.instant();
    UUID keyId = UUID.randomUUID();
    KeyRecord key =
        new KeyRecord(
            keyId,
            now,
            checkedDescription,
            keyUsage.name(),
            keySpec.name(),
            KeyState.ENABLED.name(),
            ORIGIN,
            null);
    store.createKey(key, firstVersion(keyId, keySpec, keyUsage, now), checkedTags);
    return metadata(key);
  }

  /** The token call that makes the key material, and its version record. */
  private KeyVersionRecord firstVersion(UUID keyId, KeySpec spec, KeyUsage usage, Instant now) {
    WrappedKey wrapped;
    byte[] publicKey = null;
    if (spec.isAsymmetric()) {
      PrivateKeyUsage privateUsage =
          usage == KeyUsage.SIGN_VERIFY ? PrivateKeyUsage.SIGN : PrivateKeyUsage.DECRYPT;
      WrappedKeyPair pair =
          TokenCalls.call(
              "CreateKey",
              () -> hsm.generateKeyPair(spec.keyPairType().orElseThrow(), privateUsage));
      wrapped = pair.privateKey();
      publicKey = pair.subjectPublicKeyInfo();
    } else if (spec.hmacType().isPresent()) {
      wrapped = TokenCalls.call("CreateKey", () -> hsm.generateHmacKey(spec.hmacType().get()));
    } else {
      wrapped = TokenCalls.call("CreateKey", hsm::generateBackingKey);
    }
    DomainKeyKind kind = DomainKeyKind.of(wrapped.role());
    return new KeyVersionRecord(
        keyId,
        UUID.randomUUID(),
        1,
        now,
        wrapped.domainKeyGeneration(),
        wrapped.wrapMechanism().code(),
        wrapped.ekt(),
        kind,
        publicKey);
  }

  public KeyMetadata describeKey(String keyId) {
    return metadata(find(identifiers.resolve(keyId, "KeyId")));
  }

  public KeyListing listKeys(Integer limit, String marker) {
    int pageSize = Requests.listLimit(limit);
    Optional<String> from = Optional.ofNullable(marker).filter(m -> !m.isEmpty());
    KeyPage page;
    try {
      page = store.listKeys(pageSize, from);
    } catch (IllegalArgumentException e) {
      throw new KmsException(KmsError.INVALID_MARKER, "Marker is not valid");
    }
    return new KeyListing(
        page.keys().stream()
            .map(k -> new KeyListing.Entry(k.keyId(), arns.keyArn(k.keyId())))
            .toList(),
        page.nextMarker());
  }

  /** A new, empty {@link KeyLookup} for one request of a caller in {@code account}. */
  public KeyLookup lookup(String account) {
    return new KeyLookup(this, store, account);
  }

  /** A new, empty {@link KeyLookup} for one request in the default account. */
  public KeyLookup lookup() {
    return lookup(arns.account());
  }

  /**
   * The key that {@code keyId} names, for a symmetric cryptographic operation: enabled, a
   * SYMMETRIC_DEFAULT ENCRYPT_DECRYPT key.
   */
  KeyRecord usableKey(String keyId, String parameter) {
    return requireUsable(find(identifiers.resolve(keyId, parameter)));
  }

  /** The key that {@code keyId} names, enabled; its usage and spec are the caller's to check. */
  KeyRecord enabledKey(String keyId, String parameter) {
    return requireEnabled(find(identifiers.resolve(keyId, parameter)));
  }

  /** A key id, key ARN, alias name or alias ARN. */
  UUID resolve(String keyId, String parameter) {
    return identifiers.resolve(keyId, parameter);
  }

  /** A key id or key ARN only. */
  UUID resolveKey(String keyId, String parameter) {
    return identifiers.resolveKey(keyId, parameter);
  }

  /** An alias target: a key id or key ARN only. */
  UUID resolveTarget(String keyId, String parameter) {
    return identifiers.resolveTarget(keyId, parameter);
  }

  static KeyRecord requireUsable(KeyRecord key) {
    requireEnabled(key);
    if (KeyUsage.valueOf(key.keyUsage()) != KeyUsage.ENCRYPT_DECRYPT
        || !KeySpec.valueOf(key.keySpec()).isSymmetric()) {
      throw new KmsException(
          KmsError.INVALID_KEY_USAGE,
          "Key '" + key.keyId() + "' is not a SYMMETRIC_DEFAULT ENCRYPT_DECRYPT key");
    }
    return key;
  }

  /** DisabledException when disabled, KMSInvalidStateException when pending deletion. */
  static KeyRecord requireEnabled(KeyRecord key) {
    KeyState state = KeyState.valueOf(key.keyState());
    if (state == KeyState.DISABLED) {
      throw new KmsException(KmsError.DISABLED, "Key '" + key.keyId() + "' is disabled");
    }
    if (state != KeyState.ENABLED) {
      throw new KmsException(
          KmsError.INVALID_STATE, "Key '" + key.keyId() + "' is " + state.name());
    }
    return key;
  }

  String arn(UUID keyId) {
    return arns.keyArn(keyId);
  }

  KeyRecord find(UUID keyId) {
    return store
        .findKey(keyId)
        .orElseThrow(() -> KmsException.notFound("Key '" + keyId + "' does not exist"));
  }

  KeyMetadata metadata(KeyRecord key) {
    return new KeyMetadata(
        key.keyId(),
        arns.keyArn(key.keyId()),
        key.creationDate(),
        key.description(),
        KeyUsage.valueOf(key.keyUsage()),
        KeySpec.valueOf(key.keySpec()),
        KeyState.valueOf(key.keyState()),
        Optional.ofNullable(key.deletionDate()),
        Optional.ofNullable(key.pendingWindowDays()));
  }
}
