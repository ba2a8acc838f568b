package io.p11kms.server.store;

import java.util.List;
import java.util.Optional;

/**
 * One page of {@link KeyStore#listKeys}: keys in creation order and, when more follow, the opaque
 * marker to pass for the next page.
 */
public record KeyPage(List<KeyRecord> keys, Optional<String> nextMarker) {
  public KeyPage {
    keys = List.copyOf(keys);
    if (nextMarker == null) {
      throw new IllegalArgumentException("next marker must be an Optional, not null");
    }
  }
}
