package io.p11kms.server.service;

import java.util.List;
import java.util.Optional;

/** One page of ListResourceTags. */
public record TagListing(List<Tag> tags, Optional<String> nextMarker) {
  public boolean truncated() {
    return nextMarker.isPresent();
  }
}
