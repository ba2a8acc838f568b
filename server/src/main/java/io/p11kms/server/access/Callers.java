package io.p11kms.server.access;

import io.p11kms.server.auth.AccountIds;
import io.p11kms.server.auth.PrincipalAccounts;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;

/**
 * Who a request's caller is: the account its principal belongs to, the customer a registered
 * service acts for, and whether both exist.
 */
final class Callers {
  private final PrincipalAccounts accounts;
  private final AccountDirectory directory;
  private final ServiceDirectory services;

  Callers(PrincipalAccounts accounts, AccountDirectory directory, ServiceDirectory services) {
    this.accounts = accounts;
    this.directory = directory;
    this.services = services;
  }

  /** See {@link AccessControl#caller(String)}. */
  Caller caller(String principal) {
    return new Caller(principal, accounts.accountOf(principal));
  }

  /**
   * {@code caller} acting for the customer a front end's request names: its principal ({@code
   * customer}) and, when that names no account, its account ({@code customerAccount}). Whether the
   * caller may is decided when the call is authorised (only a registered service's principals may).
   *
   * @param customer the customer's principal; null or empty: the caller acts for itself
   * @param customerAccount the customer's account; null: the one its principal names
   * @throws KmsException VALIDATION when {@code customerAccount} is not 12 digits, or is given
   *     without a customer
   */
  Caller actingFor(Caller caller, String customer, String customerAccount) {
    boolean named = customer != null && !customer.isEmpty();
    if (customerAccount != null && (!named || !AccountIds.isValid(customerAccount))) {
      throw new KmsException(
          KmsError.VALIDATION,
          "the customer's account must be a 12-digit account id, given with the customer's"
              + " principal");
    }
    if (!named) {
      return caller;
    }
    return caller.actingFor(
        customerAccount == null ? caller(customer) : new Caller(customer, customerAccount));
  }

  /**
   * Refuses a caller whose account (or whose customer's) does not exist, and a caller that names a
   * customer without being a registered service's principal (AccessDenied).
   */
  void requireCaller(Caller caller) {
    directory.requireKnown(caller);
    if (caller.onBehalfOf() != null) {
      if (services.serviceOf(caller.principal()).isEmpty()) {
        throw new KmsException(
            KmsError.ACCESS_DENIED,
            "principal '"
                + caller.principal()
                + "' is not a registered service's: only those may act on behalf of another"
                + " principal");
      }
      directory.requireKnown(caller.onBehalfOf());
    }
  }
}
