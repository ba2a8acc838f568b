package io.p11kms.server.auth;

import io.p11kms.server.config.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The account a principal belongs to: a SPIFFE-style principal {@code spiffe://<trust
 * domain>/account/<12 digits>[/...]} names its own; otherwise the configured mapping of principals
 * to accounts (an exact principal string, such as a subject DN) says; any other principal is in the
 * default account.
 */
public final class PrincipalAccounts {
  private static final Pattern SPIFFE =
      Pattern.compile("^spiffe://[^/]+/account/([0-9]{12})(/.*)?$");

  private final String defaultAccount;
  private final Map<String, String> mapped;

  /**
   * @param defaultAccount the account of principals that name none ({@code arn.account})
   * @param mapped principal string to account id
   */
  public PrincipalAccounts(String defaultAccount, Map<String, String> mapped) {
    this.defaultAccount = AccountIds.require(defaultAccount);
    mapped.values().forEach(AccountIds::require);
    this.mapped = Map.copyOf(mapped);
  }

  /** Every principal in the default account. */
  public static PrincipalAccounts allIn(String defaultAccount) {
    return new PrincipalAccounts(defaultAccount, Map.of());
  }

  public String defaultAccount() {
    return defaultAccount;
  }

  /** The account {@code principal} belongs to. */
  public String accountOf(String principal) {
    Matcher m = SPIFFE.matcher(principal);
    if (m.matches()) {
      return m.group(1);
    }
    return mapped.getOrDefault(principal, defaultAccount);
  }

  /**
   * Reads a mapping file: one principal and its account per line, the account last, after
   * whitespace ({@code CN=billing,O=Example 111122223333}); blank lines and lines starting with
   * {@code #} are skipped.
   *
   * @throws ConfigException naming the line when one is malformed, or when the file cannot be read
   */
  public static Map<String, String> readMapping(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException("cannot read " + file);
    }
    Map<String, String> out = new HashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int split = Math.max(line.lastIndexOf(' '), line.lastIndexOf('\t'));
      String account = split < 0 ? "" : line.substring(split + 1);
      String principal = split < 0 ? "" : line.substring(0, split).strip();
      if (principal.isEmpty() || !AccountIds.isValid(account)) {
        throw new ConfigException(
            file + " line " + (i + 1) + ": expected '<principal> <12-digit account id>'");
      }
      if (out.put(principal, account) != null) {
        throw new ConfigException(file + " line " + (i + 1) + ": the principal is mapped twice");
      }
    }
    return out;
  }
}
