package io.p11kms.server.access;

import io.p11kms.server.auth.AccountIds;
import java.util.Objects;

/**
 * Who calls: a principal (a client certificate's principal string, an access key's principal) and
 * the account (12 digits) it belongs to. Every front end hands one to {@link AccessControl}; the
 * account decides which keys and aliases the call sees.
 *
 * @param principal as key policies and grants name it
 * @param account the principal's account, 12 digits
 */
public record Caller(String principal, String account) {
  public Caller {
    Objects.requireNonNull(principal, "principal");
    if (principal.isEmpty()) {
      throw new IllegalArgumentException("principal is required");
    }
    AccountIds.require(account);
  }

  @Override
  public String toString() {
    return principal + " (account " + account + ")";
  }
}
