package io.p11kms.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.p11kms.server.config.ServerConfig;
import io.p11kms.server.service.XksExposures;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyStores;
import io.p11kms.server.store.XksKeyRecord;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code p11kms xks expose|list|remove}: which keys the external key store (XKS) proxy API may use,
 * in the configured key store. Each prints JSON; a refusal is one line with the AWS exception's
 * message and exit code 1.
 */
@Command(
    name = "xks",
    description = "Expose keys to the external key store (XKS) proxy API, list and remove them.",
    subcommands = {XksCommands.Expose.class, XksCommands.ListKeys.class, XksCommands.Remove.class})
public final class XksCommands {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(
      names = "--config",
      required = true,
      scope = picocli.CommandLine.ScopeType.INHERIT,
      description = "The server's properties file.")
  Path config;

  private <T> T withExposures(java.util.function.Function<XksExposures, T> work) {
    ServerConfig server = ServerConfig.load(config);
    try (KeyStore store = KeyStores.open(server.store().settings())) {
      return work.apply(new XksExposures(store, server.arns(), Clock.systemUTC()));
    }
  }

  static ObjectNode json(XksKeyRecord r) {
    ObjectNode node = JSON.createObjectNode();
    node.put("externalKeyId", r.externalKeyId());
    node.put("keyId", r.keyId().toString());
    r.usages().forEach(node.putArray("keyUsage")::add);
    node.put("createdAt", r.createdAt().toString());
    return node;
  }

  @Command(name = "expose", description = "Expose an AES key under an external key id.")
  static final class Expose implements Callable<Integer> {
    @ParentCommand XksCommands parent;

    @Option(
        names = "--key-id",
        required = true,
        description = "The key: key id, key ARN, alias name or alias ARN.")
    String keyId;

    @Option(
        names = "--external-key-id",
        required = true,
        description = "1-128 characters of A-Z, a-z, 0-9, '.', '_' and '-'.")
    String externalKeyId;

    @Option(
        names = "--usage",
        split = ",",
        defaultValue = "ENCRYPT,DECRYPT",
        description = "ENCRYPT, DECRYPT or both (default: ${DEFAULT-VALUE}).")
    List<String> usage;

    @Override
    public Integer call() {
      Set<String> usages = new LinkedHashSet<>(usage);
      XksKeyRecord r = parent.withExposures(x -> x.expose(keyId, externalKeyId, usages));
      System.out.println(json(r));
      return 0;
    }
  }

  @Command(name = "list", description = "List the exposed keys.")
  static final class ListKeys implements Callable<Integer> {
    @ParentCommand XksCommands parent;

    @Override
    public Integer call() {
      ObjectNode out = JSON.createObjectNode();
      var keys = out.putArray("keys");
      parent.withExposures(XksExposures::list).forEach(r -> keys.add(json(r)));
      System.out.println(out);
      return 0;
    }
  }

  @Command(name = "remove", description = "Stop exposing an external key id.")
  static final class Remove implements Callable<Integer> {
    @ParentCommand XksCommands parent;

    @Option(names = "--external-key-id", required = true)
    String externalKeyId;

    @Override
    public Integer call() {
      parent.withExposures(
          x -> {
            x.remove(externalKeyId);
            return null;
          });
      return 0;
    }
  }
}
