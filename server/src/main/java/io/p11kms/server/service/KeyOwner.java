package io.p11kms.server.service;

/**
 * Whom a new key belongs to: its account, its key manager and, for a key managed or owned by a
 * registered service, that service (null for a customer managed key).
 */
record KeyOwner(String account, KeyManager manager, String service) {

  /** A customer managed key of {@code account}. */
  static KeyOwner customer(String account) {
    return new KeyOwner(account, KeyManager.CUSTOMER, null);
  }

  /**
   * The owner of a key made for the caller of the request {@code lookup}: a customer managed key of
   * its account or, when the caller is a registered service calling for itself, a key that service
   * owns (KeyManager SERVICE_OWNED, shown as AWS, in the service's account).
   */
  static KeyOwner caller(KeyLookup lookup) {
    return lookup
        .ownService()
        .map(service -> new KeyOwner(lookup.account(), KeyManager.SERVICE_OWNED, service))
        .orElseGet(() -> customer(lookup.account()));
  }

  /** A service-managed key ("AWS managed") of {@code account} for {@code service}. */
  static KeyOwner serviceManaged(String account, String service) {
    return new KeyOwner(account, KeyManager.AWS, service);
  }
}
