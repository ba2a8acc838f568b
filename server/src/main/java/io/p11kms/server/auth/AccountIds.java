package io.p11kms.server.auth;

import java.util.regex.Pattern;

/** Account ids: 12 decimal digits, as AWS account ids. */
public final class AccountIds {
  private static final Pattern ID = Pattern.compile("^[0-9]{12}$");

  private AccountIds() {}

  public static boolean isValid(String account) {
    return account != null && ID.matcher(account).matches();
  }

  /**
   * @throws IllegalArgumentException when {@code account} is not 12 digits
   */
  public static String require(String account) {
    if (!isValid(account)) {
      throw new IllegalArgumentException("an account id is 12 digits, was '" + account + "'");
    }
    return account;
  }
}
