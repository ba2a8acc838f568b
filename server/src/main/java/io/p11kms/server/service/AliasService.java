package io.p11kms.server.service;

import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.AliasAlreadyExistsException;
import io.p11kms.server.store.AliasRecord;
import io.p11kms.server.store.KeyRecord;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.Page;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * CreateAlias, UpdateAlias, DeleteAlias and ListAliases. Names are unique by the store's
 * constraint, never by a check before the insert; an alias's key must not be pending deletion when
 * the alias is pointed at it, and the store checks that in the same transaction.
 */
public final class AliasService {
  private final KeyStore store;
  private final KeyService keys;
  private final KeyArns arns;
  private final Clock clock;
  private final PredefinedAliases predefined;

  public AliasService(KeyStore store, KeyService keys, KeyArns arns, Clock clock) {
    this.store = store;
    this.keys = keys;
    this.arns = arns;
    this.clock = clock;
    this.predefined = new PredefinedAliases(store, arns);
  }

  public void createAlias(String aliasName, String targetKeyId) {
    createAlias(arns.account(), aliasName, targetKeyId);
  }

  /** CreateAlias in {@code account}: the target must be a key of that account. */
  public void createAlias(String account, String aliasName, String targetKeyId) {
    String name = AliasNames.require(aliasName, "AliasName");
    createAlias(account, name, targetKeyId, "CreateAlias");
  }

  /**
   * Stores the alias {@code name} (already checked: the service's own {@code alias/aws/...} names
   * pass here) of {@code account} for the key {@code targetKeyId} names.
   */
  void createAlias(String account, String name, String targetKeyId, String operation) {
    UUID target = keys.resolveTarget(targetKeyId, "TargetKeyId");
    for (int attempt = 0; attempt < KeyLifecycleService.MAX_ATTEMPTS; attempt++) {
      KeyRecord key = KeyStates.requireNotPendingDeletion(inAccount(account, target), operation);
      Instant now = clock.instant();
      try {
        if (store.createAlias(
            new AliasRecord(name, target, now, now, arns.stored(account)), key.keyState())) {
          return;
        }
      } catch (AliasAlreadyExistsException e) {
        throw new KmsException(
            KmsError.ALREADY_EXISTS,
            "An alias with the name " + arns.aliasArn(account, name) + " already exists");
      }
    }
    throw KeyLifecycleService.contended(target);
  }

  public void updateAlias(String aliasName, String targetKeyId) {
    updateAlias(arns.account(), aliasName, targetKeyId);
  }

  /**
   * Points the alias of {@code account} at another key of that account, which must have the same
   * key spec and key usage.
   */
  public void updateAlias(String account, String aliasName, String targetKeyId) {
    String name = AliasNames.require(aliasName, "AliasName");
    UUID target = keys.resolveTarget(targetKeyId, "TargetKeyId");
    String stored = arns.stored(account);
    for (int attempt = 0; attempt < KeyLifecycleService.MAX_ATTEMPTS; attempt++) {
      AliasRecord alias = find(account, name);
      KeyRecord key =
          KeyStates.requireNotPendingDeletion(inAccount(account, target), "UpdateAlias");
      Optional<KeyRecord> current = store.findKey(alias.keyId());
      if (current.isPresent()
          && (!current.get().keySpec().equals(key.keySpec())
              || !current.get().keyUsage().equals(key.keyUsage()))) {
        throw KmsException.validation(
            "TargetKeyId must have the same key spec and key usage as the alias's current key");
      }
      if (store.updateAlias(stored, name, target, key.keyState(), clock.instant())) {
        return;
      }
    }
    throw KeyLifecycleService.contended(target);
  }

  public void deleteAlias(String aliasName) {
    deleteAlias(arns.account(), aliasName);
  }

  /** Deletes the alias of {@code account}; its key is not affected. Any key state. */
  public void deleteAlias(String account, String aliasName) {
    String name = AliasNames.require(aliasName, "AliasName");
    if (!store.deleteAlias(arns.stored(account), name)) {
      throw notFound(account, name);
    }
  }

  public AliasListing listAliases(String keyId, Integer limit, String marker) {
    return listAliases(arns.account(), keyId, limit, marker);
  }

  /**
   * The aliases of {@code account}, all or one key's ({@code keyId} a key id or key ARN of a key of
   * that account), oldest first.
   */
  public AliasListing listAliases(String account, String keyId, Integer limit, String marker) {
    int pageSize = Requests.aliasListLimit(limit);
    Optional<UUID> key = Optional.empty();
    if (keyId != null && !keyId.isEmpty()) {
      UUID id = keys.resolveKey(keyId, "KeyId");
      inAccount(account, id);
      key = Optional.of(id);
    }
    if (key.isEmpty() && PredefinedAliases.isMarker(marker)) {
      return predefined.page(account, List.of(), pageSize, marker);
    }
    Page<AliasRecord> page;
    try {
      page =
          store.listAliases(
              arns.stored(account),
              key,
              pageSize,
              Optional.ofNullable(marker).filter(m -> !m.isEmpty()));
    } catch (IllegalArgumentException e) {
      throw new KmsException(KmsError.INVALID_MARKER, "Marker is not valid");
    }
    List<AliasListing.Entry> entries = new ArrayList<>();
    for (AliasRecord a : page.items()) {
      entries.add(
          new AliasListing.Entry(
              a.aliasName(),
              arns.aliasArn(account, a.aliasName()),
              a.keyId(),
              a.createdAt(),
              a.updatedAt()));
    }
    if (key.isEmpty() && page.nextMarker().isEmpty()) {
      return predefined.page(account, entries, pageSize, null);
    }
    return new AliasListing(entries, page.nextMarker());
  }

  /** The key, if it is one of {@code account}'s: an alias and its key share an account. */
  private KeyRecord inAccount(String account, UUID keyId) {
    KeyRecord key = keys.find(keyId);
    if (!arns.account(key.account()).equals(account)) {
      throw KmsException.notFound("Key '" + keyId + "' does not exist");
    }
    return key;
  }

  private AliasRecord find(String account, String name) {
    return store.findAlias(arns.stored(account), name).orElseThrow(() -> notFound(account, name));
  }

  private KmsException notFound(String account, String name) {
    return KmsException.notFound("Alias '" + arns.aliasArn(account, name) + "' does not exist");
  }
}
