package io.p11kms.server.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.p11kms.server.store.AccessStore;
import io.p11kms.server.store.AliasAlreadyExistsException;
import io.p11kms.server.store.AliasRecord;
import io.p11kms.server.store.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Service-managed keys (the seed's "AWS managed keys"): one per account and registered service,
 * {@code alias/aws/<service>}, made on the service's first use in the account. KeyManager AWS; its
 * policy lets the account's principals use it only through that service ({@code kms:ViaService} and
 * {@code kms:CallerAccount}) and read its metadata, and allows nothing else to anyone, so the
 * account cannot change, disable, delete, tag or rotate it (AccessDeniedException); it rotates
 * every {@value #ROTATION_DAYS} days, always. Made once under concurrency: one maker per account
 * and service in this process, and the alias's unique constraint across servers (the loser's key is
 * never stored).
 */
public final class ServiceManagedKeys {
  public static final int ROTATION_DAYS = 365;
  private static final String ALIAS_PREFIX = "alias/aws/";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final KeyStore store;
  private final KeyService keys;
  private final Clock clock;
  private final ConcurrentHashMap<String, Object> makers = new ConcurrentHashMap<>();

  public ServiceManagedKeys(KeyStore store, KeyService keys, Clock clock) {
    this.store = store;
    this.keys = keys;
    this.clock = clock;
  }

  /** The alias of {@code service}'s key in every account. */
  public static String aliasOf(String service) {
    return ALIAS_PREFIX + service;
  }

  /** The key of {@code service} in {@code account}, made now if the account has none. */
  public UUID ensure(String account, String service) {
    String stored = keys.arns().stored(account);
    String alias = aliasOf(service);
    UUID key = store.findAlias(stored, alias).map(AliasRecord::keyId).orElse(null);
    if (key == null) {
      synchronized (makers.computeIfAbsent(stored + "/" + service, k -> new Object())) {
        key = store.findAlias(stored, alias).map(AliasRecord::keyId).orElse(null);
        if (key == null) {
          key = make(account, service, alias);
        }
      }
    }
    settle(key, account, service);
    return key;
  }

  private UUID make(String account, String service, String alias) {
    try {
      return keys.createServiceManagedKey(
              account,
              service,
              alias,
              "Default key that protects my " + service + " data when no other key is defined")
          .keyId();
    } catch (AliasAlreadyExistsException e) {
      // Another server made it first.
      return store
          .findAlias(keys.arns().stored(account), alias)
          .map(AliasRecord::keyId)
          .orElseThrow(() -> new KmsException(KmsError.INTERNAL, "Internal error"));
    }
  }

  /**
   * The key's policy and yearly rotation, written by whoever finds them missing (the same values
   * every time), so that a key made by a server that stopped right after is completed by the next.
   */
  private void settle(UUID key, String account, String service) {
    AccessStore access = store.access();
    if (access.findPolicy(key).isEmpty()) {
      access.putPolicy(key, policy(account, service), clock.instant());
    }
    store
        .findRotationSchedule(key)
        .filter(s -> !s.enabled())
        .ifPresent(
            s -> {
              Instant next = clock.instant().plus(Duration.ofDays(ROTATION_DAYS));
              store.setRotationSchedule(key, KeyState.ENABLED.name(), ROTATION_DAYS, next);
            });
  }

  /** Use through the service for the account's principals; metadata to the account. */
  static String policy(String account, String service) {
    ObjectNode root = JSON.createObjectNode();
    root.put("Version", "2012-10-17");
    root.put("Id", "auto-" + service);
    ObjectNode use = root.putArray("Statement").addObject();
    use.put("Sid", "Allow access through " + service + " for the principals of the account");
    use.put("Effect", "Allow");
    use.putObject("Principal").put("AWS", account);
    var actions = use.putArray("Action");
    List.of("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*")
        .forEach(actions::add);
    use.put("Resource", "*");
    ObjectNode equals = use.putObject("Condition").putObject("StringEquals");
    equals.put("kms:ViaService", service);
    equals.put("kms:CallerAccount", account);
    ObjectNode read =
        ((com.fasterxml.jackson.databind.node.ArrayNode) root.get("Statement")).addObject();
    read.put("Sid", "Allow the account to read the key's metadata");
    read.put("Effect", "Allow");
    read.putObject("Principal").put("AWS", account);
    var reads = read.putArray("Action");
    List.of("kms:Describe*", "kms:Get*", "kms:List*").forEach(reads::add);
    read.put("Resource", "*");
    return root.toPrettyString();
  }
}
