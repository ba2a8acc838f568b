package io.p11kms.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.server.auth.PrincipalAccounts;
import io.p11kms.server.config.SecurityConfig;
import io.p11kms.server.config.ServerConfig;
import io.p11kms.server.service.AccountService;
import io.p11kms.server.sigv4.AccessKeyService;
import io.p11kms.server.store.AccessKeyRecord;
import io.p11kms.server.store.AccessKeyScope;
import io.p11kms.server.store.AccessKeys;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyStores;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code p11kms access-key create|list|enable|disable|delete}: the SigV4 credentials of principals,
 * for the AWS KMS JSON API (and, with {@code --xks}, the XKS proxy API). Run beside the server,
 * against its configuration: the server sees a change within seconds. The secret is printed once,
 * by {@code create}, and kept nowhere else in the clear.
 */
@Command(
    name = "access-key",
    description = "Create, list, enable, disable and delete access keys (SigV4 credentials).",
    subcommands = {
      AccessKeyCommands.Create.class,
      AccessKeyCommands.ListKeys.class,
      AccessKeyCommands.Enable.class,
      AccessKeyCommands.Disable.class,
      AccessKeyCommands.Delete.class,
    })
public final class AccessKeyCommands {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(
      names = "--config",
      required = true,
      scope = CommandLine.ScopeType.INHERIT,
      description = "The server's properties file.")
  Path config;

  /** Opens the token and the store of the server's configuration. */
  private <T> T withService(Work<T> work) {
    return withAccounts((service, serverConfig, accounts) -> work.run(service, serverConfig));
  }

  /** As {@link #withService}, with the store's accounts. */
  private <T> T withAccounts(AccountWork<T> work) {
    ServerConfig serverConfig = ServerConfig.load(config);
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(serverConfig.hsm().hsmConfig());
        KeyStore store = KeyStores.open(serverConfig.store().settings())) {
      Clock clock = Clock.systemUTC();
      return work.run(
          new AccessKeyService(hsm, AccessKeys.of(store), clock),
          serverConfig,
          new AccountService(store, serverConfig.arns(), clock));
    }
  }

  @FunctionalInterface
  private interface Work<T> {
    T run(AccessKeyService service, ServerConfig serverConfig);
  }

  @FunctionalInterface
  private interface AccountWork<T> {
    T run(AccessKeyService service, ServerConfig serverConfig, AccountService accounts);
  }

  private static ObjectNode describe(AccessKeyRecord key) {
    ObjectNode node = JSON.createObjectNode();
    node.put("AccessKeyId", key.accessKeyId());
    node.put("Principal", key.principal());
    node.put("Account", key.accountId());
    node.put("Scope", key.scope().name());
    node.put("Status", key.active() ? "Active" : "Inactive");
    node.put("CreateDate", key.createdAt().toString());
    return node;
  }

  @Command(
      name = "create",
      description =
          "Create an active access key for a principal and print its id and secret (once)."
              + " A principal has at most two active keys of a scope.")
  static final class Create implements Callable<Integer> {
    @ParentCommand AccessKeyCommands parent;

    @Option(
        names = "--principal",
        required = true,
        description = "The principal, as key policies name it (arn:aws:iam::111122223333:user/a).")
    String principal;

    @Option(
        names = "--account",
        description =
            "Its account (12 digits); by default the account the configuration gives the"
                + " principal (auth.accounts.file, else arn.account).")
    String account;

    @Option(names = "--xks", description = "A credential of the XKS proxy API, not the JSON API.")
    boolean xks;

    @Override
    public Integer call() {
      return parent.withAccounts(
          (service, serverConfig, accounts) -> {
            String accountId = account != null ? account : accountOf(principal, serverConfig);
            if (accounts.describe(accountId).isEmpty()) {
              throw new IllegalArgumentException(
                  "account "
                      + accountId
                      + " does not exist: create it first (p11kms account create)");
            }
            AccessKeyService.NewAccessKey created =
                service.create(
                    accountId, principal, xks ? AccessKeyScope.XKS : AccessKeyScope.KMS_API);
            try {
              print(System.out, created);
            } finally {
              created.clearSecret();
            }
            return 0;
          });
    }

    private String accountOf(String principal, ServerConfig serverConfig) {
      SecurityConfig security = SecurityConfig.load(parent.config);
      Map<String, String> mapped =
          security.accountsFile() == null
              ? Map.of()
              : PrincipalAccounts.readMapping(security.accountsFile());
      return new PrincipalAccounts(serverConfig.arns().account(), mapped).accountOf(principal);
    }

    /** The key as JSON on one line, the secret written from its char array, never a String. */
    private static void print(PrintStream out, AccessKeyService.NewAccessKey created) {
      String json = describe(created.record()).toString();
      // describe() ends with '}': the secret goes in before it.
      out.print(json.substring(0, json.length() - 1));
      out.print(",\"SecretAccessKey\":\"");
      out.print(created.secret());
      out.println("\"}");
      out.flush();
    }
  }

  @Command(name = "list", description = "List access keys (never their secrets), oldest first.")
  static final class ListKeys implements Callable<Integer> {
    @ParentCommand AccessKeyCommands parent;

    @Option(names = "--account", description = "Only this account's keys.")
    String account;

    @Option(names = "--principal", description = "Only this principal's keys (with --account).")
    String principal;

    @Override
    public Integer call() {
      List<AccessKeyRecord> keys =
          parent.withService(
              (service, serverConfig) ->
                  service.list(Optional.ofNullable(account), Optional.ofNullable(principal)));
      ObjectNode out = JSON.createObjectNode();
      keys.forEach(k -> out.withArray("AccessKeys").add(describe(k)));
      out.withArray("AccessKeys");
      System.out.println(out);
      return 0;
    }
  }

  @Command(name = "disable", description = "Refuse requests signed with an access key.")
  static final class Disable implements Callable<Integer> {
    @ParentCommand AccessKeyCommands parent;

    @Option(names = "--access-key-id", required = true)
    String accessKeyId;

    @Override
    public Integer call() {
      AccessKeyRecord key = parent.withService((s, c) -> s.setActive(accessKeyId, false));
      System.out.println(describe(key));
      return 0;
    }
  }

  @Command(
      name = "enable",
      description = "Accept an inactive access key again (at most two active per principal).")
  static final class Enable implements Callable<Integer> {
    @ParentCommand AccessKeyCommands parent;

    @Option(names = "--access-key-id", required = true)
    String accessKeyId;

    @Override
    public Integer call() {
      AccessKeyRecord key = parent.withService((s, c) -> s.setActive(accessKeyId, true));
      System.out.println(describe(key));
      return 0;
    }
  }

  @Command(name = "delete", description = "Delete an access key for good.")
  static final class Delete implements Callable<Integer> {
    @ParentCommand AccessKeyCommands parent;

    @Option(names = "--access-key-id", required = true)
    String accessKeyId;

    @Override
    public Integer call() {
      parent.withService(
          (s, c) -> {
            s.delete(accessKeyId);
            return null;
          });
      System.out.println("deleted access key " + accessKeyId);
      return 0;
    }
  }
}
