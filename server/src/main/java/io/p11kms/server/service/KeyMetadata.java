package io.p11kms.server.service;

import java.time.Instant;
import java.util.Optional;
import java.util.UUID;

/** What DescribeKey tells about a key. */
public record KeyMetadata(
    UUID keyId,
    String arn,
    Instant creationDate,
    String description,
    KeyUsage keyUsage,
    KeySpec keySpec,
    KeyState keyState,
    Optional<Instant> deletionDate) {

  public boolean enabled() {
    return keyState == KeyState.ENABLED;
  }
}
