package io.p11kms.server.store;

import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** A part of {@link StoreContractTest}: a store on a new, empty database for each test. */
abstract class StoreContractPart {
  /** The database's URL, for reopening it or a raw connection to it. */
  protected String url;

  protected KeyStore store;

  /** The URL of a new, empty database. */
  protected abstract String newDatabaseUrl();

  @BeforeEach
  void openStore() {
    url = newDatabaseUrl();
    store = KeyStores.open(url);
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  /** Stores a new Enabled key with its first version; returns its id. */
  protected UUID create() {
    UUID id = UUID.randomUUID();
    store.createKey(key(id), version(id, 1));
    return id;
  }

  static KeyRecord key(UUID id) {
    return new KeyRecord(
        id,
        Instant.parse("2024-05-01T12:34:56.123456789Z"),
        "a key",
        "ENCRYPT_DECRYPT",
        "SYMMETRIC_DEFAULT",
        "ENABLED",
        "AWS_KMS",
        null);
  }

  static KeyVersionRecord version(UUID keyId, int number) {
    byte[] ekt = new byte[40];
    for (int i = 0; i < ekt.length; i++) {
      ekt[i] = (byte) (i * 7 + number);
    }
    return new KeyVersionRecord(
        keyId, UUID.randomUUID(), number, Instant.parse("2024-05-01T12:34:57Z"), 1, 1, ekt);
  }
}
