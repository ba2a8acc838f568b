package io.p11kms.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.p11kms.server.config.ConfigException;
import io.p11kms.server.config.ServerConfig;
import io.p11kms.server.service.AccountService;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyStoreException;
import io.p11kms.server.store.KeyStores;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code p11kms account create|list|describe|update}: the accounts (tenants) of the key store, on
 * the store the configuration names (the server may keep running). Output is JSON.
 */
@Command(
    name = "account",
    description = "Create, list and describe accounts (tenants: their own keys, aliases, grants).",
    subcommands = {
      AccountCommands.Create.class,
      AccountCommands.ListAccounts.class,
      AccountCommands.Describe.class,
      AccountCommands.Update.class
    })
public final class AccountCommands {
  /** Exit code of a refused or failed command. */
  public static final int EXIT_FAILED = 1;

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** The --config option and the store it names. */
  static final class Store {
    @Option(names = "--config", required = true, description = "The server's properties file.")
    Path config;
  }

  /** One command's work on the account service. */
  @FunctionalInterface
  interface Work {
    Object run(AccountService accounts);
  }

  /** One command's work on the key store the configuration names. */
  @FunctionalInterface
  interface StoreWork {
    Object run(KeyStore keys, ServerConfig config);
  }

  static int run(String command, Store store, Work work) {
    return run(
        "account " + command,
        store,
        (keys, config) -> work.run(new AccountService(keys, config.arns(), Clock.systemUTC())));
  }

  /** Runs {@code work} on the store, prints its result as JSON; the exit code. */
  static int run(String command, Store store, StoreWork work) {
    try {
      ServerConfig config = ServerConfig.load(store.config);
      try (KeyStore keys = KeyStores.open(config.store().settings())) {
        Object result = work.run(keys, config);
        System.out.println(JSON.writeValueAsString(result));
        return 0;
      }
    } catch (KmsException e) {
      System.err.println("p11kms " + command + ": " + e.error().awsName() + ": " + e.getMessage());
    } catch (ConfigException | KeyStoreException | IllegalArgumentException e) {
      System.err.println("p11kms " + command + ": " + e.getMessage());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      System.err.println("p11kms " + command + ": cannot write the result");
    }
    return EXIT_FAILED;
  }

  @Command(name = "create", description = "Create an account; prints it, with its id.")
  static final class Create implements Callable<Integer> {
    @Mixin Store store = new Store();

    @Option(
        names = "--name",
        required = true,
        description = "A unique name (1-64 of A-Za-z0-9._-).")
    String name;

    @Option(names = "--id", description = "The 12-digit account id; random when not given.")
    String id;

    @Option(
        names = "--use-keys-of",
        split = ",",
        description =
            "Accounts whose keys this account's principals may use (their key policies must let"
                + " them in too).")
    List<String> keyAccounts;

    @Override
    public Integer call() {
      return run("create", store, a -> a.create(id, name, keyAccounts));
    }
  }

  @Command(name = "list", description = "List the accounts, the default one first.")
  static final class ListAccounts implements Callable<Integer> {
    @Mixin Store store = new Store();

    @Override
    public Integer call() {
      return run("list", store, AccountService::list);
    }
  }

  @Command(name = "describe", description = "Describe one account.")
  static final class Describe implements Callable<Integer> {
    @Mixin Store store = new Store();

    @Option(names = "--id", required = true, description = "The 12-digit account id.")
    String id;

    @Override
    public Integer call() {
      return run(
          "describe",
          store,
          a -> {
            Optional<AccountService.Account> found = a.describe(id);
            return found.orElseThrow(
                () -> new IllegalArgumentException("account " + id + " does not exist"));
          });
    }
  }

  @Command(
      name = "update",
      description = "Set the accounts whose keys this account's principals may use.")
  static final class Update implements Callable<Integer> {
    @Mixin Store store = new Store();

    @Option(names = "--id", required = true, description = "The 12-digit account id.")
    String id;

    @Option(
        names = "--use-keys-of",
        split = ",",
        required = true,
        description = "The accounts, comma-separated; an empty value for none.")
    List<String> keyAccounts;

    @Override
    public Integer call() {
      return run(
          "update",
          store,
          a -> a.setKeyAccounts(id, keyAccounts.stream().filter(s -> !s.isBlank()).toList()));
    }
  }
}
