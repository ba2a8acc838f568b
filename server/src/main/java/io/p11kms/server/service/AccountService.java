package io.p11kms.server.service;

import io.p11kms.server.auth.AccountIds;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.AccountRecord;
import io.p11kms.server.store.KeyAlreadyExistsException;
import io.p11kms.server.store.KeyStore;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Accounts, as an operator manages them: create (with a given or a random 12-digit id and a unique
 * name), list, describe, and which other accounts' keys an account's principals may use. The
 * default account ({@code arn.account}) always exists, has no record and is named {@value
 * #DEFAULT_NAME}.
 */
public final class AccountService {
  public static final String DEFAULT_NAME = "default";
  private static final Pattern NAME = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$");
  private static final SecureRandom RANDOM = new SecureRandom();

  private final KeyStore store;
  private final KeyArns arns;
  private final Clock clock;

  public AccountService(KeyStore store, KeyArns arns, Clock clock) {
    this.store = store;
    this.arns = arns;
    this.clock = clock;
  }

  /** An account as shown: the default one included. */
  public record Account(
      String accountId, String name, boolean isDefault, List<String> keyAccounts) {}

  /**
   * Creates an account.
   *
   * @param accountId 12 digits, or null for a random id
   * @param keyAccounts accounts whose keys this account's principals may use
   * @throws KmsException VALIDATION for a malformed id or name, ALREADY_EXISTS for a taken one
   */
  public Account create(String accountId, String name, List<String> keyAccounts) {
    if (name == null || !NAME.matcher(name).matches() || name.equals(DEFAULT_NAME)) {
      throw KmsException.validation(
          "the name must be 1-64 characters of A-Z a-z 0-9 . _ -, starting with a letter or"
              + " digit, and not '"
              + DEFAULT_NAME
              + "'");
    }
    List<String> checked = keyAccounts(keyAccounts);
    String id = accountId == null ? randomId() : accountId;
    if (!AccountIds.isValid(id)) {
      throw KmsException.validation("an account id is 12 digits");
    }
    if (id.equals(arns.account())) {
      throw new KmsException(
          KmsError.ALREADY_EXISTS, "account " + id + " is the default account (arn.account)");
    }
    try {
      store.createAccount(new AccountRecord(id, name, checked, clock.instant()));
    } catch (KeyAlreadyExistsException e) {
      throw new KmsException(
          KmsError.ALREADY_EXISTS, "an account with id " + id + " or name " + name + " exists");
    }
    return new Account(id, name, false, checked);
  }

  /** The default account first, then the others by id. */
  public List<Account> list() {
    List<Account> out = new ArrayList<>();
    out.add(defaultAccount());
    for (AccountRecord a : store.listAccounts()) {
      out.add(shown(a));
    }
    return out;
  }

  public Optional<Account> describe(String accountId) {
    if (arns.account().equals(accountId)) {
      return Optional.of(defaultAccount());
    }
    return AccountIds.isValid(accountId)
        ? store.findAccount(accountId).map(AccountService::shown)
        : Optional.empty();
  }

  /**
   * Sets the accounts whose keys {@code accountId}'s principals may use (their key policies must
   * let them in too).
   *
   * @throws KmsException NOT_FOUND for an account without a record (the default one included)
   */
  public Account setKeyAccounts(String accountId, List<String> keyAccounts) {
    List<String> checked = keyAccounts(keyAccounts);
    if (!AccountIds.isValid(accountId) || !store.setKeyAccounts(accountId, checked)) {
      throw KmsException.notFound("account " + accountId + " does not exist or is the default");
    }
    return describe(accountId).orElseThrow();
  }

  private static List<String> keyAccounts(List<String> keyAccounts) {
    LinkedHashSet<String> out = new LinkedHashSet<>();
    for (String a : keyAccounts == null ? List.<String>of() : keyAccounts) {
      if (!AccountIds.isValid(a)) {
        throw KmsException.validation("an account id is 12 digits");
      }
      out.add(a);
    }
    return List.copyOf(out);
  }

  private Account defaultAccount() {
    return new Account(arns.account(), DEFAULT_NAME, true, List.of());
  }

  private static Account shown(AccountRecord a) {
    return new Account(a.accountId(), a.name(), false, a.keyAccounts());
  }

  private static String randomId() {
    StringBuilder id = new StringBuilder(12);
    id.append(1 + RANDOM.nextInt(9));
    for (int i = 1; i < 12; i++) {
      id.append(RANDOM.nextInt(10));
    }
    return id.toString();
  }
}
