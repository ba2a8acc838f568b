package io.p11kms.server.store;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * A registered service: its name (as in {@code alias/aws/<name>}), the account its own keys are in
 * ({@link KeyRecord#DEFAULT_ACCOUNT} for the default account), and the principals that act as it.
 */
public record ServiceRecord(
    String name, String account, List<String> principals, Instant createdAt) {
  public ServiceRecord {
    KeyRecord.requireNonNull(name, "name");
    KeyRecord.requireNonNull(account, "account");
    KeyRecord.requireNonNull(createdAt, "creation date");
    principals = List.copyOf(principals);
    createdAt = createdAt.truncatedTo(ChronoUnit.MICROS);
  }
}
