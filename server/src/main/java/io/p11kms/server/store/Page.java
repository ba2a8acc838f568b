package io.p11kms.server.store;

import java.util.List;
import java.util.Optional;

/**
 * One page of a listing: the items in order and, when more follow, the opaque marker to pass for
 * the next page.
 */
public record Page<T>(List<T> items, Optional<String> nextMarker) {
  public Page {
    items = List.copyOf(items);
    if (nextMarker == null) {
      throw new IllegalArgumentException("next marker must be an Optional, not null");
    }
  }
}
