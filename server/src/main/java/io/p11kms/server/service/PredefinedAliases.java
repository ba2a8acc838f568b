package io.p11kms.server.service;

import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.ServiceRecord;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * The aliases ListAliases shows after an account's own, as AWS does: {@code alias/aws/<service>} of
 * each registered service that has not made its key in the account yet, with no target, by name.
 * They page as the account's own aliases do: never more than the limit on a page, the rest after a
 * marker of their own (a dot in it, so never one of the store's base64url markers).
 */
final class PredefinedAliases {
  private static final String MARKER_PREFIX = "predefined.";

  private final KeyStore store;
  private final KeyArns arns;

  PredefinedAliases(KeyStore store, KeyArns arns) {
    this.store = store;
    this.arns = arns;
  }

  /** Whether {@code marker} is one of the pages this class writes. */
  static boolean isMarker(String marker) {
    return marker != null && marker.startsWith(MARKER_PREFIX);
  }

  /**
   * A page of {@code pageSize} at most: {@code listed} (the account's own aliases, the last of
   * them) and then the predefined ones after {@code marker} (null: from the first).
   *
   * @throws KmsException INVALID_MARKER when {@code marker} is not one this class wrote
   */
  AliasListing page(String account, List<AliasListing.Entry> listed, int pageSize, String marker) {
    String after = marker == null ? "" : after(marker);
    List<AliasListing.Entry> entries = new ArrayList<>(listed);
    String last = after;
    for (ServiceRecord s : store.listServices()) {
      String name = ServiceManagedKeys.aliasOf(s.name());
      if (name.compareTo(after) <= 0 || store.findAlias(arns.stored(account), name).isPresent()) {
        continue;
      }
      if (entries.size() >= pageSize) {
        return new AliasListing(entries, Optional.of(marker(last)));
      }
      entries.add(new AliasListing.Entry(name, arns.aliasArn(account, name), null, null, null));
      last = name;
    }
    return new AliasListing(entries, Optional.empty());
  }

  private static String marker(String lastName) {
    return MARKER_PREFIX
        + Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString(lastName.getBytes(StandardCharsets.UTF_8));
  }

  private static String after(String marker) {
    try {
      return new String(
          Base64.getUrlDecoder().decode(marker.substring(MARKER_PREFIX.length())),
          StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new KmsException(KmsError.INVALID_MARKER, "Marker is not valid");
    }
  }
}
