package io.p11kms.server.access;

import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.ServiceRecord;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Which principals act as which registered service. The registry is read again when a principal is
 * not found in it and at most every {@link #TTL} otherwise, so a service registered now is seen by
 * its next call.
 */
final class ServiceDirectory {
  static final Duration TTL = Duration.ofSeconds(5);

  private final KeyStore store;
  private final Clock clock;
  private Map<String, String> byPrincipal = Map.of();
  private Instant readAt = Instant.MIN;

  ServiceDirectory(KeyStore store, Clock clock) {
    this.store = store;
    this.clock = clock;
  }

  /** The service {@code principal} acts as, if it is a registered service's principal. */
  synchronized Optional<String> serviceOf(String principal) {
    Instant now = clock.instant();
    if (!byPrincipal.containsKey(principal) || readAt.plus(TTL).isBefore(now)) {
      Map<String, String> read = new HashMap<>();
      for (ServiceRecord s : store.listServices()) {
        s.principals().forEach(p -> read.put(p, s.name()));
      }
      byPrincipal = Map.copyOf(read);
      readAt = now;
    }
    return Optional.ofNullable(byPrincipal.get(principal));
  }
}
