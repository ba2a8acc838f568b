package io.p11kms.server.access;

import io.p11kms.server.auth.AccountIds;
import java.util.Objects;

/**
 * Who calls: a principal (a client certificate's principal string, an access key's principal) and
 * the account (12 digits) it belongs to. Every front end hands one to {@link AccessControl}; the
 * account decides which keys and aliases the call sees. A registered service acting for a customer
 * names the customer ({@link #onBehalfOf}); the service decides whether the caller may.
 *
 * @param principal as key policies and grants name it
 * @param account the principal's account, 12 digits
 * @param onBehalfOf the customer a service principal acts for; null when it acts for itself
 */
public record Caller(String principal, String account, Caller onBehalfOf) {
  /**
   * The request header (gRPC metadata, HTTP header) in which a registered service names the
   * customer's principal it acts for.
   */
  public static final String ON_BEHALF_OF_HEADER = "x-p11kms-on-behalf-of";

  /** The header naming that customer's account, when its principal names none. */
  public static final String ON_BEHALF_OF_ACCOUNT_HEADER = "x-p11kms-on-behalf-of-account";

  /** A caller acting for itself. */
  public Caller(String principal, String account) {
    this(principal, account, null);
  }

  /** This caller, acting for {@code customer}. */
  public Caller actingFor(Caller customer) {
    return new Caller(principal, account, customer);
  }

  /** The principal and account whose keys the call uses: the customer's, or the caller's own. */
  public Caller effective() {
    return onBehalfOf == null ? this : onBehalfOf;
  }

  public Caller {
    if (onBehalfOf != null && onBehalfOf.onBehalfOf() != null) {
      throw new IllegalArgumentException("a customer acts for nobody else");
    }
    Objects.requireNonNull(principal, "principal");
    if (principal.isEmpty()) {
      throw new IllegalArgumentException("principal is required");
    }
    AccountIds.require(account);
  }

  @Override
  public String toString() {
    return principal
        + " (account "
        + account
        + ")"
        + (onBehalfOf == null ? "" : " on behalf of " + onBehalfOf);
  }
}
