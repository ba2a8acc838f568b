package io.p11kms.server.store;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

/**
 * An alias as stored: its full name ({@code alias/...}), the key it points to, and when it was
 * created and last pointed elsewhere (microsecond precision, as stored), and its account (the
 * account of its key; {@link KeyRecord#DEFAULT_ACCOUNT} for the default account): names are unique
 * per account.
 */
public record AliasRecord(
    String aliasName, UUID keyId, Instant createdAt, Instant updatedAt, String account) {

  /** An alias of the default account. */
  public AliasRecord(String aliasName, UUID keyId, Instant createdAt, Instant updatedAt) {
    this(aliasName, keyId, createdAt, updatedAt, KeyRecord.DEFAULT_ACCOUNT);
  }

  public AliasRecord {
    KeyRecord.requireNonNull(account, "account");
    KeyRecord.requireNonNull(aliasName, "alias name");
    KeyRecord.requireNonNull(keyId, "key id");
    KeyRecord.requireNonNull(createdAt, "creation date");
    KeyRecord.requireNonNull(updatedAt, "update date");
    createdAt = createdAt.truncatedTo(ChronoUnit.MICROS);
    updatedAt = updatedAt.truncatedTo(ChronoUnit.MICROS);
  }
}
