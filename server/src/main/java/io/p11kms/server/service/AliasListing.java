package io.p11kms.server.service;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** One page of ListAliases. */
public record AliasListing(List<Entry> aliases, Optional<String> nextMarker) {

  /**
   * A listed alias; the target is a key id, as AWS KMS lists it. A predefined alias ({@code
   * alias/aws/<service>} of a registered service that has made no key in the account yet) has no
   * target and no dates: null.
   */
  public record Entry(
      String aliasName,
      String aliasArn,
      UUID targetKeyId,
      Instant creationDate,
      Instant lastUpdatedDate) {}

  public boolean truncated() {
    return nextMarker.isPresent();
  }
}
