package io.p11kms.server.service;

import io.p11kms.server.crypto.CiphertextBlob;
import io.p11kms.server.crypto.MalformedCiphertextException;
import io.p11kms.server.store.XksKeyRecord;
import java.util.Optional;
import java.util.UUID;

/**
 * Finds the key a request names, for authorisation before the operation runs. Empty when the key
 * does not exist: the operation itself then fails as it always does (NotFound, InvalidCiphertext),
 * without a token call. Its reads are the request's {@link KeyLookup}, which the operation reuses.
 */
public final class KeyResolver {
  private final KeyLookup lookup;

  public KeyResolver(KeyLookup lookup) {
    this.lookup = lookup;
  }

  /**
   * The existing key a KeyId parameter (key id, key ARN, alias name or alias ARN) names.
   *
   * @throws KmsException VALIDATION when malformed, NOT_FOUND for an unknown alias
   */
  public Optional<UUID> key(String keyId, String parameter) {
    UUID id = lookup.resolve(keyId, parameter);
    return lookup.find(id, null).map(k -> id);
  }

  /** The existing key exposed to the XKS proxy API under {@code externalKeyId}, if any. */
  public Optional<UUID> exposedKey(String externalKeyId) {
    return lookup
        .exposed(externalKeyId)
        .map(XksKeyRecord::keyId)
        .filter(id -> lookup.find(id, null).isPresent());
  }

  /** The existing key a ciphertext blob names; empty when the blob is malformed or not ours. */
  public Optional<UUID> keyOfCiphertext(byte[] blob) {
    try {
      CiphertextBlob parsed = lookup.ciphertext(blob);
      UUID id = parsed.keyId();
      return lookup.find(id, parsed.keyVersionId()).map(k -> id);
    } catch (MalformedCiphertextException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
