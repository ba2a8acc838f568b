package io.p11kms.server.store;

import java.util.List;
import java.util.Optional;

/**
 * The keys exposed to the external key store (XKS) proxy API (migration 7), in the key store's
 * database. Thread-safe; every method throws the unchecked {@link KeyStoreException} when the
 * database fails.
 */
public interface XksKeys {

  /** The exposed keys in {@code store}'s database. */
  static XksKeys of(KeyStore store) {
    return store.xksKeys();
  }

  /**
   * Exposes a key.
   *
   * @throws KeyAlreadyExistsException when the external key id, or the key, is exposed already
   */
  void expose(XksKeyRecord key);

  /** The key exposed under {@code externalKeyId}; empty when none is. */
  Optional<XksKeyRecord> find(String externalKeyId);

  /** Every exposed key, by external key id. */
  List<XksKeyRecord> list();

  /** Stops exposing the key of {@code externalKeyId}; whether it was exposed. */
  boolean remove(String externalKeyId);
}
