package io.p11kms.server.service;

import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** One page of ListKeys. */
public record KeyListing(List<Entry> keys, Optional<String> nextMarker) {

  /** A listed key. */
  public record Entry(UUID keyId, String arn) {}

  public boolean truncated() {
    return nextMarker.isPresent();
  }
}
