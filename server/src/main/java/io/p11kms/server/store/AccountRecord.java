package io.p11kms.server.store;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * An account an operator created: its 12-digit id, a name unique among accounts, the accounts whose
 * keys its principals may use (when those keys' policies let them in too), and when it was made.
 */
public record AccountRecord(
    String accountId, String name, List<String> keyAccounts, Instant createdAt) {
  public AccountRecord {
    KeyRecord.requireNonNull(accountId, "account id");
    KeyRecord.requireNonNull(name, "name");
    KeyRecord.requireNonNull(createdAt, "creation date");
    keyAccounts = List.copyOf(keyAccounts);
    createdAt = createdAt.truncatedTo(ChronoUnit.MICROS);
  }
}
