package io.p11kms.server.service;

import io.p11kms.server.crypto.CiphertextBlob;
import io.p11kms.server.crypto.MalformedCiphertextException;
import io.p11kms.server.store.KeyStore;
import java.util.Optional;
import java.util.UUID;

/**
 * Finds the key a request names, for authorisation before the operation runs. Empty when the key
 * does not exist: the operation itself then fails as it always does (NotFound, InvalidCiphertext),
 * without a token call.
 */
public final class KeyResolver {
  private final KeyService keys;
  private final KeyStore store;

  public KeyResolver(KeyService keys, KeyStore store) {
    this.keys = keys;
    this.store = store;
  }

  /**
   * The existing key a KeyId parameter (key id, key ARN, alias name or alias ARN) names.
   *
   * @throws KmsException VALIDATION when malformed, NOT_FOUND for an unknown alias
   */
  public Optional<UUID> key(String keyId, String parameter) {
    UUID id = keys.resolve(keyId, parameter);
    return store.findKey(id).map(k -> id);
  }

  /** The existing key a ciphertext blob names; empty when the blob is malformed or not ours. */
  public Optional<UUID> keyOfCiphertext(byte[] blob) {
    try {
      UUID id = CiphertextBlob.parse(blob).keyId();
      return store.findKey(id).map(k -> id);
    } catch (MalformedCiphertextException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
