package io.p11kms.server.service;

import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.AliasRecord;
import io.p11kms.server.store.KeyAlreadyExistsException;
import io.p11kms.server.store.KeyRecord;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.XksKeyRecord;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * Which keys the external key store (XKS) proxy API may use, under which external key ids and for
 * what: the operator's side of XKS. Only an AES key (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT) that is
 * not pending deletion can be exposed, under one external key id.
 */
public final class XksExposures {
  private final KeyStore store;
  private final KeyIdentifiers identifiers;
  private final Clock clock;

  public XksExposures(KeyStore store, KeyArns arns, Clock clock) {
    this.store = store;
    this.identifiers =
        new KeyIdentifiers(arns, name -> store.findAlias(name).map(AliasRecord::keyId));
    this.clock = clock;
  }

  /**
   * Exposes the key {@code keyId} (key id, key ARN, alias name or alias ARN) as {@code
   * externalKeyId}, allowing {@code usages} ({@code ENCRYPT}, {@code DECRYPT}).
   *
   * @throws KmsException VALIDATION (an id or usage outside the rules), NOT_FOUND,
   *     INVALID_KEY_USAGE (not an AES encryption key), INVALID_STATE (pending deletion),
   *     ALREADY_EXISTS (the id or the key is exposed already)
   */
  public XksKeyRecord expose(String keyId, String externalKeyId, Set<String> usages) {
    if (externalKeyId == null || !XksKeyRecord.EXTERNAL_KEY_ID.matcher(externalKeyId).matches()) {
      throw KmsException.validation(
          "the external key id must be 1-128 characters of A-Z, a-z, 0-9, '.', '_' and '-'");
    }
    if (usages.isEmpty() || !Set.of("ENCRYPT", "DECRYPT").containsAll(usages)) {
      throw KmsException.validation("the usage is ENCRYPT, DECRYPT or both, was " + usages);
    }
    UUID id = identifiers.resolve(keyId, "KeyId");
    KeyRecord key =
        store
            .findKey(id)
            .orElseThrow(() -> KmsException.notFound("Key '" + id + "' does not exist"));
    if (KeySpec.valueOf(key.keySpec()) != KeySpec.SYMMETRIC_DEFAULT
        || KeyUsage.valueOf(key.keyUsage()) != KeyUsage.ENCRYPT_DECRYPT) {
      throw new KmsException(
          KmsError.INVALID_KEY_USAGE,
          "Key '" + id + "' is " + key.keySpec() + "; XKS takes SYMMETRIC_DEFAULT keys only");
    }
    KeyStates.requireNotPendingDeletion(key, "Expose to XKS");
    XksKeyRecord record =
        new XksKeyRecord(
            externalKeyId,
            id,
            usages.contains("ENCRYPT"),
            usages.contains("DECRYPT"),
            clock.instant());
    try {
      store.xksKeys().expose(record);
    } catch (KeyAlreadyExistsException e) {
      throw new KmsException(
          KmsError.ALREADY_EXISTS,
          "External key id '" + externalKeyId + "' or key '" + id + "' is exposed already");
    }
    return record;
  }

  public List<XksKeyRecord> list() {
    return store.xksKeys().list();
  }

  /** Stops exposing {@code externalKeyId}; NOT_FOUND when it was not. */
  public void remove(String externalKeyId) {
    if (!store.xksKeys().remove(externalKeyId)) {
      throw KmsException.notFound("External key id '" + externalKeyId + "' is not exposed");
    }
  }
}
