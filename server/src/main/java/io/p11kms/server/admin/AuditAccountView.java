package io.p11kms.server.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * One account's view of an audit log: its request records, those of calls its principals made
 * ({@code account}), of calls on its keys ({@code keyAccount}) and of calls a registered service
 * made for one of its principals ({@code onBehalfOfAccount}) that name no key, as they are in the
 * log. A service's calls for it on another account's key (a service-owned key) are not its. A
 * record that names no account (written before accounts existed) is the default account's.
 */
final class AuditAccountView {
  private static final ObjectMapper JSON = new ObjectMapper();

  private AuditAccountView() {}

  /** Prints the records of {@code account}; 0, or {@code EXIT_CONFIG} when a file is unreadable. */
  static int print(
      List<Path> files, String account, String defaultAccount, PrintStream out, PrintStream err) {
    int shown = 0;
    for (Path file : files) {
      List<String> lines;
      try {
        lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      } catch (IOException e) {
        err.println(
            "p11kms verify-audit: cannot read " + file + ": " + e.getClass().getSimpleName());
        return VerifyAuditCommand.EXIT_CONFIG;
      }
      for (String line : lines) {
        if (belongs(line, account, defaultAccount)) {
          out.println(line);
          shown++;
        }
      }
    }
    out.println(shown + " record(s) of account " + account);
    return 0;
  }

  static boolean belongs(String line, String account, String defaultAccount) {
    JsonNode r;
    try {
      r = JSON.readTree(line);
    } catch (IOException e) {
      return false;
    }
    if (r == null || !"request".equals(r.path("type").asText())) {
      return false;
    }
    String caller = r.hasNonNull("account") ? r.get("account").asText() : defaultAccount;
    String keyAccount = r.hasNonNull("keyAccount") ? r.get("keyAccount").asText() : "";
    String[] arn = r.path("keyArn").asText().split(":");
    if (keyAccount.isEmpty() && arn.length > 5) {
      keyAccount = arn[4];
    }
    // A service's call for a customer is the customer's too when it names none of the customer's
    // keys or none at all; never a call on another account's key, such as the service's own.
    boolean forAccount =
        account.equals(r.path("onBehalfOfAccount").asText()) && keyAccount.isEmpty();
    return account.equals(caller) || account.equals(keyAccount) || forAccount;
  }
}
