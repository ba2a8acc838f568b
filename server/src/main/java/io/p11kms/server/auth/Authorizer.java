package io.p11kms.server.auth;

import io.p11kms.server.config.KeyArns;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.store.AccessStore;
import io.p11kms.server.store.GrantRecord;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
      Optional<String> policy) {
    check(principal, action, keyId, context, Map.of(), policy);
  }

  /**
   * As above, with an XKS request's requestMetadata, the values of the policy's {@code xks:<field>}
   * condition keys.
   *
   * @throws KmsException ACCESS_DENIED when not allowed
   */
  public void check(
      String principal,
      String action,
      UUID keyId,
      Map<String, String> context,
      Map<String, String> requestMetadata,
      Optional<String> policy) {
    check(principal, null, action, keyId, arns.keyArn(keyId), context, requestMetadata, policy);
  }

  /**
   * As above, for {@code principal} of {@code account} (which statements naming the account apply
   * to) on the key {@code keyId} whose ARN is {@code arn}.
   *
   * @throws KmsException ACCESS_DENIED when not allowed
   */
  public void check(
      String principal,
      String account,
      String action,
      UUID keyId,
      String arn,
      Map<String, String> context,
      Map<String, String> requestMetadata,
      Optional<String> policy) {
    KeyPolicy.Effect effect =
        effect(principal, account, action, arn, context, requestMetadata, policy);
    if (effect == KeyPolicy.Effect.ALLOW) {
      return;
    }
    if (effect == KeyPolicy.Effect.NONE
        && grantAllows(principal, account, action, keyId, context)) {
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

  /**
   * A grant created through grants, as AWS KMS: unless the key policy itself allows {@code
   * principal} of {@code account} kms:CreateGrant on the key ({@code arn}, in its own account), one
   * of its grants on the key that names the principal (or its account) and allows CreateGrant must
   * cover {@code proposed}: only operations of that grant, constraints as strict or stricter. Call
   * after {@link #check} allowed kms:CreateGrant.
   *
   * @throws KmsException ACCESS_DENIED when no policy statement or grant covers it
   */
  public void checkDelegation(
      String principal, String account, String arn, GrantRecord proposed, Optional<String> policy) {
    Map<String, String> conditions = Map.of(KeyPolicy.CALLER_ACCOUNT, account);
    if (effect(principal, account, "kms:CreateGrant", arn, Map.of(), conditions, policy)
        == KeyPolicy.Effect.ALLOW) {
      return;
    }
    for (GrantRecord g : access.grantsOfKey(proposed.keyId())) {
      if (KeyPolicy.namesCaller(g.grantee(), principal, account)
          && GrantDelegation.covers(g, proposed)) {
        return;
      }
    }
    throw new KmsException(
        KmsError.ACCESS_DENIED,
        "principal '"
            + principal
            + "' may grant on "
            + arn
            + " only operations of its own grant, with constraints at least as strict");
  }

  /**
   * Whether the key's policy (or, without one, the administrators' default) lets {@code principal}
   * of {@code account} in at all: the first condition for using a key of another account.
   */
  public boolean admits(String principal, String account, Optional<String> policy) {
    return policy
        .map(this::parsed)
        .or(() -> Optional.ofNullable(adminsOnly))
        .map(p -> p.admits(principal, account))
        .orElse(false);
  }

  private KeyPolicy.Effect effect(
      String principal,
      String account,
      String action,
      String arn,
      Map<String, String> context,
      Map<String, String> requestMetadata,
      Optional<String> policy) {
    return policy
        .map(this::parsed)
        .or(() -> Optional.ofNullable(adminsOnly))
        .map(p -> p.evaluate(principal, account, action, arn, context, requestMetadata))
        .orElse(KeyPolicy.Effect.NONE);
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

  /**
   * Whether a grant on the key names {@code principal} of {@code account} (or its account) as its
   * grantee: a grant lets a principal of another account than the key's see the key, as a key
   * policy naming it does.
   */
  public boolean grantNames(String principal, String account, UUID keyId) {
    return access.grantsOfKey(keyId).stream()
        .anyMatch(g -> KeyPolicy.namesCaller(g.grantee(), principal, account));
  }

  private boolean grantAllows(
      String principal, String account, String action, UUID keyId, Map<String, String> context) {
    String operation = action.startsWith("kms:") ? action.substring(4) : action;
    for (GrantRecord g : access.grantsOfKey(keyId)) {
      if (KeyPolicy.namesCaller(g.grantee(), principal, account)
          && g.operations().contains(operation)
          && (Actions.UNCONSTRAINED.contains(operation) || constraintsHold(g, context))) {
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
