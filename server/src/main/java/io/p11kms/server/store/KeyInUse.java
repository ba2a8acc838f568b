package io.p11kms.server.store;

import java.util.Optional;

/**
 * What a cryptographic request needs of one key, read in one query: the key, one of its versions
 * (the latest, or the one a ciphertext names) and its key policy document.
 *
 * @param version empty when the key has no such version
 * @param policy empty when the key has no stored policy
 */
public record KeyInUse(KeyRecord key, Optional<KeyVersionRecord> version, Optional<String> policy) {

  public KeyInUse {
    KeyRecord.requireNonNull(key, "key");
    KeyRecord.requireNonNull(version, "version");
    KeyRecord.requireNonNull(policy, "policy");
  }
}
