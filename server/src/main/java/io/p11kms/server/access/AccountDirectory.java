package io.p11kms.server.access;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.store.AccountRecord;
import io.p11kms.server.store.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The accounts callers may belong to: the default account ({@code arn.account}) and those an
 * operator created. A principal of any other account is refused. An account may use another
 * account's keys only if it says so (its {@code key_accounts}) <em>and</em> the key's policy lets
 * it in: the two sides AWS asks for across accounts (the key policy, and the caller's own account
 * allowing it), here the account's list standing for its IAM policies. Accounts are read through a
 * short cache: a new account is seen at once, a changed list within {@link #TTL}.
 */
final class AccountDirectory {
  static final Duration TTL = Duration.ofSeconds(5);

  private final String defaultAccount;
  private final KeyStore store;
  private final Cache<String, AccountRecord> known =
      Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(TTL).build();

  AccountDirectory(String defaultAccount, KeyStore store) {
    this.defaultAccount = defaultAccount;
    this.store = store;
  }

  /**
   * @throws KmsException ACCESS_DENIED when the caller's account is neither the default one nor one
   *     an operator created
   */
  void requireKnown(Caller caller) {
    if (!caller.account().equals(defaultAccount) && find(caller.account()).isEmpty()) {
      throw new KmsException(
          KmsError.ACCESS_DENIED,
          "principal '"
              + caller.principal()
              + "' is in account "
              + caller.account()
              + ", which does not exist");
    }
  }

  /** Whether {@code caller}'s own account lets its principals use keys of {@code keyAccount}. */
  boolean allowsKeysOf(Caller caller, String keyAccount) {
    return find(caller.account())
        .map(AccountRecord::keyAccounts)
        .orElse(List.of())
        .contains(keyAccount);
  }

  private Optional<AccountRecord> find(String account) {
    AccountRecord cached = known.getIfPresent(account);
    if (cached != null) {
      return Optional.of(cached);
    }
    Optional<AccountRecord> found = store.findAccount(account);
    found.ifPresent(a -> known.put(account, a));
    return found;
  }
}
