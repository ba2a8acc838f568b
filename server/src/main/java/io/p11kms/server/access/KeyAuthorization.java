package io.p11kms.server.access;

import io.p11kms.server.auth.Authorizer;
import io.p11kms.server.auth.KeyPolicy;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.service.KeyLookup;
import io.p11kms.server.service.KeyManager;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.store.KeyRecord;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Whether a caller may do what a request's checks ask on its keys: the key's account, the key
 * policy, grants and the rules of service-owned keys.
 */
final class KeyAuthorization {
  private final Authorizer authorizer;
  private final List<String> admins;
  private final AccountDirectory directory;
  private final ServiceDirectory services;
  private final KeyArns arns;

  KeyAuthorization(
      Authorizer authorizer,
      List<String> admins,
      AccountDirectory directory,
      ServiceDirectory services,
      KeyArns arns) {
    this.authorizer = authorizer;
    this.admins = admins;
    this.directory = directory;
    this.services = services;
    this.arns = arns;
  }

  /**
   * Each check, for the caller or the customer a service acts for ({@link Caller#effective}): a key
   * of another account than theirs is NotFound unless its policy lets them (or their account) in,
   * and AccessDenied unless their own account allows using that account's keys (an administrator's
   * always does); then the key policy and grants decide, its conditions seeing an XKS request's
   * requestMetadata, {@code kms:CallerAccount} and, through a service, {@code kms:ViaService}.
   */
  void authorize(
      Caller call, List<Check> checks, KeyLookup lookup, Map<String, String> requestMetadata) {
    Caller caller = call.effective();
    Map<String, String> conditions = new HashMap<>(requestMetadata);
    conditions.put(KeyPolicy.CALLER_ACCOUNT, caller.account());
    if (call.onBehalfOf() != null) {
      services.serviceOf(call.principal()).ifPresent(s -> conditions.put(KeyPolicy.VIA_SERVICE, s));
    }
    for (int i = 0; i < checks.size(); i++) {
      Check c = checks.get(i);
      Optional<String> policy = lookup.policy(c.keyId());
      String keyAccount = keyAccount(lookup, c.keyId());
      String arn = arn(lookup, c.keyId());
      Optional<String> owner = serviceOwner(lookup, c.keyId());
      if (owner.isPresent()) {
        authorizeServiceOwned(call, owner.get(), c, keyAccount, arn, conditions, policy);
        continue;
      }
      if (!keyAccount.equals(caller.account())) {
        if (!authorizer.admits(caller.principal(), caller.account(), policy)
            && !authorizer.grantNames(caller.principal(), caller.account(), c.keyId())) {
          throw new KmsException(KmsError.NOT_FOUND, "Key '" + arn + "' does not exist");
        }
        if (!admins.contains(caller.principal()) && !directory.allowsKeysOf(caller, keyAccount)) {
          throw new KmsException(
              KmsError.ACCESS_DENIED,
              "account "
                  + caller.account()
                  + " does not allow its principals to use keys of account "
                  + keyAccount);
        }
      }
      authorizer.check(
          caller.principal(),
          caller.account(),
          c.action(),
          c.keyId(),
          arn,
          c.context(),
          conditions,
          policy);
    }
  }

  /** The service that owns the key, when it is a service-owned key. */
  private static Optional<String> serviceOwner(KeyLookup lookup, UUID keyId) {
    return lookup
        .key(keyId)
        .filter(k -> KeyManager.SERVICE_OWNED.name().equals(k.keyManager()))
        .map(KeyRecord::service);
  }

  /**
   * A service-owned key is the service's: its own principals use it, for themselves or for any
   * customer, as its policy lets them (the policy sees the service's principal, not the customer);
   * principals of its account as the policy says; to every other account it does not exist,
   * whatever its policy says.
   */
  private void authorizeServiceOwned(
      Caller call,
      String owner,
      Check c,
      String keyAccount,
      String arn,
      Map<String, String> conditions,
      Optional<String> policy) {
    boolean byOwner = services.serviceOf(call.principal()).filter(owner::equals).isPresent();
    Caller subject = byOwner ? new Caller(call.principal(), call.account()) : call.effective();
    if (!subject.account().equals(keyAccount)) {
      throw new KmsException(KmsError.NOT_FOUND, "Key '" + arn + "' does not exist");
    }
    authorizer.check(
        subject.principal(),
        subject.account(),
        c.action(),
        c.keyId(),
        arn,
        c.context(),
        conditions,
        policy);
  }

  /** The key's ARN, in its account. */
  String arn(KeyLookup lookup, UUID keyId) {
    return lookup.arn(keyId);
  }

  /** The key's account (12 digits); the default one for a key that does not exist. */
  String keyAccount(KeyLookup lookup, UUID keyId) {
    return arns.account(lookup.key(keyId).map(KeyRecord::account).orElse(""));
  }
}
