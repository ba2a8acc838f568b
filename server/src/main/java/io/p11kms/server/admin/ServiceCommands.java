package io.p11kms.server.admin;

import io.p11kms.server.service.ServiceRegistry;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code p11kms service register|list}: the integrated services whose principals may act for
 * customers and make their service-managed keys ({@code alias/aws/<name>}). Output is JSON.
 */
@Command(
    name = "service",
    description = "Register and list the services that act for customers.",
    subcommands = {ServiceCommands.Register.class, ServiceCommands.ListServices.class})
public final class ServiceCommands {

  @Command(name = "register", description = "Register a service and its principals.")
  static final class Register implements Callable<Integer> {
    @Mixin AccountCommands.Store store = new AccountCommands.Store();

    @Option(names = "--name", required = true, description = "The name (1-32 of a-z 0-9 -).")
    String name;

    @Option(
        names = "--principal",
        required = true,
        split = ",",
        description = "The principals that act as the service.")
    List<String> principals;

    @Option(names = "--account", description = "The service's own account; default: arn.account.")
    String account;

    @Override
    public Integer call() {
      return AccountCommands.run(
          "service register",
          store,
          (keys, config) ->
              new ServiceRegistry(keys, config.arns(), java.time.Clock.systemUTC())
                  .register(name, account, principals));
    }
  }

  @Command(name = "list", description = "List the registered services.")
  static final class ListServices implements Callable<Integer> {
    @Mixin AccountCommands.Store store = new AccountCommands.Store();

    @Override
    public Integer call() {
      return AccountCommands.run(
          "service list",
          store,
          (keys, config) ->
              new ServiceRegistry(keys, config.arns(), java.time.Clock.systemUTC()).list());
    }
  }
}
