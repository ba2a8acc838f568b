package io.p11kms.server.service;

import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.AliasAlreadyExistsException;
import io.p11kms.server.store.AliasRecord;
import io.p11kms.server.store.KeyRecord;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.Page;
import java.time.Clock;
import java.time.Instant;
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

  public AliasService(KeyStore store, KeyService keys, KeyArns arns, Clock clock) {
    this.store = store;
    this.keys = keys;
    this.arns = arns;
    this.clock = clock;
  }

  public void createAlias(String aliasName, String targetKeyId) {
    String name = AliasNames.require(aliasName, "AliasName");
    UUID target = keys.resolveTarget(targetKeyId, "TargetKeyId");
    for (int attempt = 0; attempt < KeyLifecycleService.MAX_ATTEMPTS; attempt++) {
      KeyRecord key = KeyStates.requireNotPendingDeletion(keys.find(target), "CreateAlias");
      Instant now = clock.instant();
      try {
        if (store.createAlias(new AliasRecord(name, target, now, now), key.keyState())) {
          return;
        }
      } catch (AliasAlreadyExistsException e) {
        throw new KmsException(
            KmsError.ALREADY_EXISTS,
            "An alias with the name " + arns.aliasArn(name) + " already exists");
      }
    }
    throw KeyLifecycleService.contended(target);
  }

  /** Points the alias at another key, which must have the same key spec and key usage. */
  public void updateAlias(String aliasName, String targetKeyId) {
    String name = AliasNames.require(aliasName, "AliasName");
    UUID target = keys.resolveTarget(targetKeyId, "TargetKeyId");
    for (int attempt = 0; attempt < KeyLifecycleService.MAX_ATTEMPTS; attempt++) {
      AliasRecord alias = find(name);
      KeyRecord key = KeyStates.requireNotPendingDeletion(keys.find(target), "UpdateAlias");
      Optional<KeyRecord> current = store.findKey(alias.keyId());
      if (current.isPresent()
          && (!current.get().keySpec().equals(key.keySpec())
              || !current.get().keyUsage().equals(key.keyUsage()))) {
        throw KmsException.validation(
            "TargetKeyId must have the same key spec and key usage as the alias's current key");
      }
      if (store.updateAlias(name, target, key.keyState(), clock.instant())) {
        return;
      }
    }
    throw KeyLifecycleService.contended(target);
  }

  /** Deletes the alias; its key is not affected. Any key state. */
  public void deleteAlias(String aliasName) {
    String name = AliasNames.require(aliasName, "AliasName");
    if (!store.deleteAlias(name)) {
      throw notFound(name);
    }
  }

  /** All aliases, or one key's ({@code keyId} a key id or key ARN), oldest first. */
  public AliasListing listAliases(String keyId, Integer limit, String marker) {
    int pageSize = Requests.aliasListLimit(limit);
    Optional<UUID> key = Optional.empty();
    if (keyId != null && !keyId.isEmpty()) {
      UUID id = keys.resolveKey(keyId, "KeyId");
      keys.find(id);
      key = Optional.of(id);
    }
    Page<AliasRecord> page;
    try {
      page =
          store.listAliases(key, pageSize, Optional.ofNullable(marker).filter(m -> !m.isEmpty()));
    } catch (IllegalArgumentException e) {
      throw new KmsException(KmsError.INVALID_MARKER, "Marker is not valid");
    }
    return new AliasListing(
        page.items().stream()
            .map(
                a ->
                    new AliasListing.Entry(
                        a.aliasName(),
                        arns.aliasArn(a.aliasName()),
                        a.keyId(),
                        a.createdAt(),
                        a.updatedAt()))
            .toList(),
        page.nextMarker());
  }

  private AliasRecord find(String name) {
    return store.findAlias(name).orElseThrow(() -> notFound(name));
  }

  private KmsException notFound(String name) {
    return KmsException.notFound("Alias '" + arns.aliasArn(name) + "' does not exist");
  }
}
