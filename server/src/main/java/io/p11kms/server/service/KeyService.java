package io.p11kms.server.service;

import io.p11kms.hsm.Hsm;
import io.p11kms.hsm.PrivateKeyUsage;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.hsm.WrappedKeyPair;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.AliasRecord;
import io.p11kms.server.store.DomainKeyKind;
import io.p11kms.server.store.ImportedMaterial;
import io.p11kms.server.store.KeyPage;
import io.p11kms.server.store.KeyRecord;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyVersionRecord;
import io.p11kms.server.store.MultiRegionKeys;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/** Creates, describes and lists keys; finds the key a KeyId parameter names. */
public final class KeyService {
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
        new KeyIdentifiers(
            arns,
            (account, name) -> store.findAlias(arns.stored(account), name).map(AliasRecord::keyId),
            id -> store.findKey(id).map(k -> arns.account(k.account())));
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
    return createKey(arns.account(), description, usage, spec, tags);
  }

  /** As {@link #createKey(String, KeyUsage, KeySpec, List)}, a key of {@code account}. */
  public KeyMetadata createKey(
      String account, String description, KeyUsage usage, KeySpec spec, List<Tag> tags) {
    return createKey(account, description, usage, spec, tags, null);
  }

  /**
   * As {@link #createKey(String, String, KeyUsage, KeySpec, List)}, with the key's Origin (null:
   * AWS_KMS). An EXTERNAL key is made without key material, in state PendingImport, with no token
   * call: its material comes with ImportKeyMaterial. Only SYMMETRIC_DEFAULT keys can be EXTERNAL
   * here (UnsupportedOperationException for other specs).
   */
  public KeyMetadata createKey(
      String account,
      String description,
      KeyUsage usage,
      KeySpec spec,
      List<Tag> tags,
      Origin origin) {
    return createKey(
        account, KeyManager.CUSTOMER, null, description, usage, spec, tags, null, origin);
  }

  /**
   * CreateKey for the caller of the request {@code lookup}: a customer managed key of its account,
   * or, when the caller is a registered service calling for itself, a key that service owns
   * (service-owned: KeyManager SERVICE_OWNED, shown as AWS, in the service's account).
   */
  public KeyMetadata createKey(
      KeyLookup lookup,
      String description,
      KeyUsage usage,
      KeySpec spec,
      List<Tag> tags,
      Origin origin) {
    Optional<String> service = lookup.ownService();
    return createKey(
        lookup.account(),
        service.isPresent() ? KeyManager.SERVICE_OWNED : KeyManager.CUSTOMER,
        service.orElse(null),
        description,
        usage,
        spec,
        tags,
        null,
        origin);
  }

  /**
   * As {@link #createKey(String, KeyUsage, KeySpec, List)}: a key of {@code account}, managed by
   * {@code manager} (for {@code service}, null for a customer managed key).
   */
  KeyMetadata createKey(
      String account,
      KeyManager manager,
      String service,
      String description,
      KeyUsage usage,
      KeySpec spec,
      List<Tag> tags) {
    return createKey(account, manager, service, description, usage, spec, tags, null);
  }

  /**
   * As above; with {@code aliasName} not null, the key is stored with that alias in the same
   * transaction ({@link io.p11kms.server.store.AliasAlreadyExistsException} when the account has it
   * already: then nothing is stored).
   */
  KeyMetadata createKey(
      String account,
      KeyManager manager,
      String service,
      String description,
      KeyUsage usage,
      KeySpec spec,
      List<Tag> tags,
      String aliasName) {
    return createKey(account, manager, service, description, usage, spec, tags, aliasName, null);
  }

  private KeyMetadata createKey(
      String account,
      KeyManager manager,
      String service,
      String description,
      KeyUsage usage,
      KeySpec spec,
      List<Tag> tags,
      String aliasName,
      Origin origin) {
    return createKey(
        account, manager, service, description, usage, spec, tags, aliasName, origin, false);
  }

  /**
   * As {@link #createKey(String, String, KeyUsage, KeySpec, List, Origin)}; with {@code
   * multiRegion}, a multi-Region primary key in this region (id {@code mrk-...}), which
   * ReplicateKey copies to peer regions. Multi-Region keys are SYMMETRIC_DEFAULT and of Origin
   * AWS_KMS here (UnsupportedOperationException for others).
   */
  public KeyMetadata createKey(
      String account,
      String description,
      KeyUsage usage,
      KeySpec spec,
      List<Tag> tags,
      Origin origin,
      boolean multiRegion) {
    return createKey(
        account,
        KeyManager.CUSTOMER,
        null,
        description,
        usage,
        spec,
        tags,
        null,
        origin,
        multiRegion);
  }

  private KeyMetadata createKey(
      String account,
      KeyManager manager,
      String service,
      String description,
      KeyUsage usage,
      KeySpec spec,
      List<Tag> tags,
      String aliasName,
      Origin origin,
      boolean multiRegion) {
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

    Origin keyOrigin = origin == null ? Origin.AWS_KMS : origin;
    if (keyOrigin == Origin.EXTERNAL && keySpec != KeySpec.SYMMETRIC_DEFAULT) {
      throw new KmsException(
          KmsError.UNSUPPORTED_OPERATION,
          "Origin EXTERNAL is supported for SYMMETRIC_DEFAULT keys only, not " + keySpec);
    }

    if (multiRegion
        && (keySpec != KeySpec.SYMMETRIC_DEFAULT
            || (origin != null && origin != Origin.AWS_KMS)
            || aliasName != null)) {
      throw new KmsException(
          KmsError.UNSUPPORTED_OPERATION,
          "multi-Region keys are SYMMETRIC_DEFAULT keys of Origin AWS_KMS here");
    }
    Instant now = clock.instant();
    UUID keyId = multiRegion ? KeyArns.newMultiRegionKeyId() : UUID.randomUUID();
    KeyRecord key =
        new KeyRecord(
            keyId,
            now,
            checkedDescription,
            keyUsage.name(),
            keySpec.name(),
            (keyOrigin == Origin.EXTERNAL ? KeyState.PENDING_IMPORT : KeyState.ENABLED).name(),
            keyOrigin.name(),
            null,
            null,
            arns.stored(account),
            manager.name(),
            service);
    if (keyOrigin == Origin.EXTERNAL) {
      store.createKeyAwaitingMaterial(key, checkedTags);
      return metadata(key);
    }
    KeyVersionRecord first = firstVersion(keyId, keySpec, keyUsage, now);
    if (multiRegion) {
      store.multiRegionKeys().createPrimary(key, first, checkedTags, arns.region());
    } else if (aliasName == null) {
      store.createKey(key, first, checkedTags);
    } else {
      store.createKeyWithAlias(
          key, first, new AliasRecord(aliasName, keyId, now, now, key.account()));
    }
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

  /** DescribeKey in the default account. */
  public KeyMetadata describeKey(String keyId) {
    return describeKey(lookup(), keyId);
  }

  /** DescribeKey: the key {@code keyId} names for the request {@code lookup} belongs to. */
  public KeyMetadata describeKey(KeyLookup lookup, String keyId) {
    UUID id = lookup.resolve(keyId, "KeyId");
    return metadata(
        lookup
            .find(id, null)
            .orElseThrow(() -> KmsException.notFound("Key '" + id + "' does not exist"))
            .key());
  }

  /** ListKeys in the default account. */
  public KeyListing listKeys(Integer limit, String marker) {
    return listKeys(arns.account(), limit, marker);
  }

  /** ListKeys: the keys of {@code account} (service-managed ones included, as AWS lists them). */
  public KeyListing listKeys(String account, Integer limit, String marker) {
    int pageSize = Requests.listLimit(limit);
    Optional<String> from = Optional.ofNullable(marker).filter(m -> !m.isEmpty());
    KeyPage page;
    try {
      page = store.listKeys(arns.stored(account), pageSize, from);
    } catch (IllegalArgumentException e) {
      throw new KmsException(KmsError.INVALID_MARKER, "Marker is not valid");
    }
    return new KeyListing(
        page.keys().stream()
            .map(k -> new KeyListing.Entry(k.keyId(), arns.keyArn(k.account(), k.keyId())))
            .toList(),
        page.nextMarker());
  }

  /** A new, empty {@link KeyLookup} for one request of a caller in {@code account}. */
  public KeyLookup lookup(String account) {
    return lookup(account, Optional::empty);
  }

  /**
   * As {@link #lookup(String)}, for a caller that may be a registered service calling for itself
   * ({@code ownService}, asked only when needed).
   */
  public KeyLookup lookup(
      String account, java.util.function.Supplier<Optional<String>> ownService) {
    return new KeyLookup(this, store, account, ownService);
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

  /** As {@link #enabledKey(String, String)}, with the reads of the request {@code lookup}. */
  static KeyRecord enabledKey(KeyLookup lookup, String keyId, String parameter) {
    UUID id = lookup.resolve(keyId, parameter);
    return requireEnabled(
        lookup
            .find(id, null)
            .orElseThrow(() -> KmsException.notFound("Key '" + id + "' does not exist"))
            .key());
  }

  /** A key id, key ARN, alias name (of {@code account}) or alias ARN. */
  UUID resolve(String account, String keyId, String parameter) {
    return identifiers.resolve(account, keyId, parameter);
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

  /** The ARN of the key {@code keyId}, in its account (the default one if it is gone). */
  String arn(UUID keyId) {
    return store.findKey(keyId).map(this::arn).orElseGet(() -> arns.keyArn(keyId));
  }

  /** The ARN of {@code key}, in its account. */
  String arn(KeyRecord key) {
    return arns.keyArn(key.account(), key.keyId());
  }

  KeyArns arns() {
    return arns;
  }

  KeyRecord find(UUID keyId) {
    return store
        .findKey(keyId)
        .orElseThrow(() -> KmsException.notFound("Key '" + keyId + "' does not exist"));
  }

  KeyMetadata metadata(KeyRecord key) {
    Origin origin = Origin.valueOf(key.origin());
    Optional<ImportedMaterial> material =
        origin == Origin.EXTERNAL
            ? store.findImportedMaterial(key.keyId()).filter(ImportedMaterial::present)
            : Optional.empty();
    Optional<MultiRegionKeys.Configuration> regions =
        KeyArns.isMultiRegion(key.keyId())
            ? store.multiRegionKeys().find(key.keyId())
            : Optional.empty();
    KeyState state = KeyState.valueOf(key.keyState());
    return new KeyMetadata(
        key.keyId(),
        arns.keyArn(key.account(), key.keyId()),
        key.creationDate(),
        key.description(),
        KeyUsage.valueOf(key.keyUsage()),
        KeySpec.valueOf(key.keySpec()),
        state == KeyState.ENABLED
                && regions.filter(MultiRegionKeys.Configuration::updating).isPresent()
            ? KeyState.UPDATING
            : state,
        Optional.ofNullable(key.deletionDate()),
        Optional.ofNullable(key.pendingWindowDays()),
        arns.account(key.account()),
        KeyManager.valueOf(key.keyManager()).shown(),
        origin,
        material.map(m -> ExpirationModel.valueOf(m.expirationModel())),
        material.map(ImportedMaterial::validTo),
        regions.map(c -> MultiRegionConfiguration.of(arns, key, c)));
  }
}
