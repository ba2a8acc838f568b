package io.p11kms.server.service;

import io.p11kms.server.auth.AccountIds;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.KeyAlreadyExistsException;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.ServiceRecord;
import java.time.Clock;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Registered services, as an operator manages them: a name (its service-managed keys are {@code
 * alias/aws/<name>}), the account its own keys are in, and the principals that act as it.
 */
public final class ServiceRegistry {
  private static final Pattern NAME = Pattern.compile("^[a-z0-9][a-z0-9-]{0,31}$");

  private final KeyStore store;
  private final KeyArns arns;
  private final Clock clock;

  public ServiceRegistry(KeyStore store, KeyArns arns, Clock clock) {
    this.store = store;
    this.arns = arns;
    this.clock = clock;
  }

  /** A service as shown. */
  public record Service(String name, String account, List<String> principals) {}

  /**
   * @param account the service's own account; null for the default account
   * @throws KmsException VALIDATION for a malformed name, account or principal list, ALREADY_EXISTS
   *     for a taken name
   */
  public Service register(String name, String account, List<String> principals) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw KmsException.validation("a service name is 1-32 of a-z 0-9 -, starting with a-z 0-9");
    }
    String own = account == null ? arns.account() : account;
    if (!AccountIds.isValid(own)) {
      throw KmsException.validation("an account id is 12 digits");
    }
    List<String> checked =
        principals == null ? List.of() : principals.stream().filter(p -> !p.isBlank()).toList();
    if (checked.isEmpty() || checked.stream().anyMatch(p -> p.contains(","))) {
      throw KmsException.validation("give the service's principals (none may contain a comma)");
    }
    try {
      store.registerService(new ServiceRecord(name, arns.stored(own), checked, clock.instant()));
    } catch (KeyAlreadyExistsException e) {
      throw new KmsException(KmsError.ALREADY_EXISTS, "service " + name + " is registered");
    }
    return new Service(name, own, checked);
  }

  public List<Service> list() {
    return store.listServices().stream()
        .map(s -> new Service(s.name(), arns.account(s.account()), s.principals()))
        .toList();
  }
}
