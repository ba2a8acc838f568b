package io.p11kms.server.service;

import io.p11kms.hsm.Hsm;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.AliasRecord;
import io.p11kms.server.store.ImportedMaterial;
import io.p11kms.server.store.KeyPage;
import io.p11kms.server.store.KeyRecord;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.MultiRegionKeys;
import java.time.Clock;
import java.util.Optional;
import java.util.UUID;

/**
 * Creates (through {@link KeyCreation}), describes and lists keys; finds the key a KeyId parameter
 * names.
 */
public final class KeyService {
  private final Hsm hsm;
  private final KeyStore store;
  private final KeyArns arns;
  private final KeyIdentifiers identifiers;
  private final KeyCreation creation;

  public KeyService(Hsm hsm, KeyStore store, KeyArns arns, Clock clock) {
    this.hsm = hsm;
    this.store = store;
    this.arns = arns;
    this.identifiers =
        new KeyIdentifiers(
            arns,
            (account, name) -> store.findAlias(arns.stored(account), name).map(AliasRecord::keyId),
            id -> store.findKey(id).map(k -> arns.account(k.account())));
    this.creation = new KeyCreation(hsm, store, arns, clock);
  }

  /** CreateKey: a customer managed key in the default account. */
  public KeyMetadata createKey(CreateKeyRequest request) {
    return createKey(arns.account(), request);
  }

  /** CreateKey: a customer managed key of {@code account}. */
  public KeyMetadata createKey(String account, CreateKeyRequest request) {
    return metadata(creation.create(KeyOwner.customer(account), request, null));
  }

  /**
   * CreateKey for the caller of the request {@code lookup}: a customer managed key of its account,
   * or, when the caller is a registered service calling for itself, a key that service owns.
   */
  public KeyMetadata createKey(KeyLookup lookup, CreateKeyRequest request) {
    return metadata(creation.create(KeyOwner.caller(lookup), request, null));
  }

  /**
   * The service-managed key of {@code service} in {@code account}, stored with its alias {@code
   * aliasName} in the same transaction ({@link io.p11kms.server.store.AliasAlreadyExistsException}
   * when the account has it already: then nothing is stored).
   */
  KeyMetadata createServiceManagedKey(
      String account, String service, String aliasName, String description) {
    return metadata(
        creation.create(
            KeyOwner.serviceManaged(account, service),
            CreateKeyRequest.of(description),
            aliasName));
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
    return KeyStates.requireUsable(find(identifiers.resolve(keyId, parameter)));
  }

  /** The key that {@code keyId} names, enabled; its usage and spec are the caller's to check. */
  KeyRecord enabledKey(String keyId, String parameter) {
    return KeyStates.requireEnabled(find(identifiers.resolve(keyId, parameter)));
  }

  /** As {@link #enabledKey(String, String)}, with the reads of the request {@code lookup}. */
  static KeyRecord enabledKey(KeyLookup lookup, String keyId, String parameter) {
    UUID id = lookup.resolve(keyId, parameter);
    return KeyStates.requireEnabled(
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

  /** The ARN of the key {@code keyId}, in its account (the default one if it is gone). */
  String arn(UUID keyId) {
    return store.findKey(keyId).map(this::arn).orElseGet(() -> arns.keyArn(keyId));
  }

  /**
   * The ARN of the key {@code keyId}, in its account: the default one when {@code key} is empty.
   */
  String arn(UUID keyId, Optional<KeyRecord> key) {
    return arns.keyArn(key.map(KeyRecord::account).orElse(""), keyId);
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
