package io.p11kms.server.auth;

import io.p11kms.server.config.KeyArns;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.store.AccessStore;
import io.p11kms.server.store.GrantRecord;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Decides whether a principal may perform an action on a key: an explicit Deny in the key policy
 * wins; then an Allow from the policy or from a grant; else {@code AccessDeniedException}. A key
 * without a stored policy (made before policies existed) has the default policy of the configured
 * administrators.
 */
public final class Authorizer {
  private final AccessStore access;
  private final KeyArns arns;
  private final KeyPolicy adminsOnly;

  /**
   * Parsed policies by their document. Parsing the JSON on every call was ~6% of the server's CPU
   * samples under the benchmark (docs/performance.md); a policy is immutable and a function of its
   * document alone, so a changed policy is simply a new entry. Bounded: cleared when full.
   */
  private final ConcurrentHashMap<String, KeyPolicy> parsed = new ConcurrentHashMap<>();

  private static final int MAX_PARSED = 256;

  public Authorizer(AccessStore access, KeyArns arns, List<String> admins) {
    this.access = access;
    this.arns = arns;
    this.adminsOnly = admins.isEmpty() ? null : KeyPolicy.parse(KeyPolicy.defaultDocument(admins));
  }

  /**
   * @param action such as {@code kms:Encrypt}
   * @throws KmsException ACCESS_DENIED when not allowed
   */
  public void check(String principal, String action, UUID keyId, Map<String, String> context) {
    check(principal, action, keyId, context, access.findPolicy(keyId));
  }

  /**
   * As above, with the key's stored policy document already read (empty: none is stored).
   *
   * @throws KmsException ACCESS_DENIED when not allowed
   */
  public void check(
      String principal,
      String action,
      UUID keyId,
      Map<String, String> context,
      java.util.Optional<String> policy) {
    String arn = arns.keyArn(keyId);
    KeyPolicy.Effect effect =
        policy
            .map(this::parsed)
            .or(() -> java.util.Optional.ofNullable(adminsOnly))
            .map(p -> p.evaluate(principal, action, arn, context))
            .orElse(KeyPolicy.Effect.NONE);
    if (effect == KeyPolicy.Effect.ALLOW) {
      return;
    }
    if (effect == KeyPolicy.Effect.NONE && grantAllows(principal, action, keyId, context)) {
      return;
    }
    throw new KmsException(
        KmsError.ACCESS_DENIED,
        "principal '"
            + principal
            + "' is not authorized to perform "
            + action
            + " on "
            + arn
            + (effect == KeyPolicy.Effect.DENY ? " (explicit deny in the key policy)" : ""));
  }

  private KeyPolicy parsed(String document) {
    KeyPolicy policy = parsed.get(document);
    if (policy == null) {
      policy = KeyPolicy.parse(document);
      if (parsed.size() >= MAX_PARSED) {
        parsed.clear();
      }
      parsed.put(document, policy);
    }
    return policy;
  }

  private boolean grantAllows(
      String principal, String action, UUID keyId, Map<String, String> context) {
    String operation = action.startsWith("kms:") ? action.substring(4) : action;
    for (GrantRecord g : access.grantsOfKey(keyId)) {
      if (g.grantee().equals(principal)
          && g.operations().contains(operation)
          && constraintsHold(g, context)) {
        return true;
      }
    }
    return false;
  }

  /** Whether the context satisfies a grant's EncryptionContextEquals and Subset constraints. */
  static boolean constraintsHold(GrantRecord g, Map<String, String> context) {
    if (!g.contextEquals().isEmpty() && !g.contextEquals().equals(context)) {
      return false;
    }
    return g.contextSubset().entrySet().stream()
        .allMatch(e -> e.getValue().equals(context.get(e.getKey())));
  }
}
