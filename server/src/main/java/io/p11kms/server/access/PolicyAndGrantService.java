package io.p11kms.server.access;

import io.p11kms.server.auth.Actions;
import io.p11kms.server.auth.KeyPolicy;
import io.p11kms.server.service.KeyLookup;
import io.p11kms.server.service.KeyResolver;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.store.GrantRecord;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Key policies and grants: PutKeyPolicy, GetKeyPolicy, ListKeyPolicies, CreateGrant, ListGrants,
 * ListRetirableGrants, RetireGrant, RevokeGrant, over plain values. The action on the key was
 * authorised already ({@link AccessControl}); CreateGrant through a grant, RetireGrant and
 * ListRetirableGrants check their caller here. Keys are found with the request's {@link KeyLookup}
 * (alias names in the caller's account); a grant's grantee or retiring principal names a principal
 * or a whole account ({@code 111122223333}, {@code arn:aws:iam::111122223333:root}), of any
 * account.
 */
public final class PolicyAndGrantService {
  /** The one policy name a key has, as AWS KMS. */
  public static final String DEFAULT_POLICY = "default";

  private static final SecureRandom RANDOM = new SecureRandom();

  private final AccessControl control;

  public PolicyAndGrantService(AccessControl control) {
    this.control = control;
  }

  /** A grant to be made, as CreateGrant names it; null for an absent name or retiring principal. */
  public record NewGrant(
      String name,
      String grantee,
      String retiring,
      List<String> operations,
      Map<String, String> contextEquals,
      Map<String, String> contextSubset) {}

  public void putKeyPolicy(KeyLookup lookup, String keyId, String policyName, String policy) {
    requirePolicyName(policyName);
    UUID key = key(lookup, keyId);
    AccessControl.parsePolicy(policy);
    control.access().putPolicy(key, policy, control.clock().instant());
  }

  /** The key's policy document (the administrators' default when none is stored). */
  public String getKeyPolicy(KeyLookup lookup, String keyId, String policyName) {
    requirePolicyName(policyName);
    UUID key = key(lookup, keyId);
    return control
        .access()
        .findPolicy(key)
        .orElseGet(() -> KeyPolicy.defaultDocument(control.admins()));
  }

  public List<String> listKeyPolicies(KeyLookup lookup, String keyId) {
    key(lookup, keyId);
    return List.of(DEFAULT_POLICY);
  }

  /**
   * Makes a grant on the key {@code keyId} names. Through a grant (not the key policy) {@code
   * caller} may grant only that grant's operations with constraints as strict or stricter.
   */
  public GrantRecord createGrant(Caller caller, KeyLookup lookup, String keyId, NewGrant g) {
    UUID key = key(lookup, keyId);
    if (g.grantee() == null || g.grantee().isBlank()) {
      throw validation("GranteePrincipal is required");
    }
    if (g.operations().isEmpty()) {
      throw validation("Operations must name at least one operation");
    }
    for (String op : g.operations()) {
      if (!Actions.GRANTABLE.contains(op)) {
        throw validation("Operations: '" + op + "' cannot be granted");
      }
    }
    if (!g.contextEquals().isEmpty() && !g.contextSubset().isEmpty()) {
      throw validation(
          "Constraints: give EncryptionContextEquals or EncryptionContextSubset, not both");
    }
    boolean constrained = !g.contextEquals().isEmpty() || !g.contextSubset().isEmpty();
    if (constrained && g.operations().stream().anyMatch(Actions.WITHOUT_CONTEXT::contains)) {
      throw validation(
          "Constraints: a grant of Sign, Verify, GetPublicKey, GenerateMac or VerifyMac"
              + " cannot be constrained");
    }
    GrantRecord grant =
        new GrantRecord(
            HexFormat.of().formatHex(random()),
            key,
            g.name(),
            g.grantee(),
            g.retiring(),
            g.operations(),
            g.contextEquals(),
            g.contextSubset(),
            Base64.getUrlEncoder().withoutPadding().encodeToString(random()),
            control.clock().instant());
    control
        .authorizer()
        .checkDelegation(
            caller.principal(),
            caller.account(),
            control.arn(lookup, key),
            grant,
            control.access().findPolicy(key));
    control.access().createGrant(grant);
    return grant;
  }

  /**
   * A page ({@link GrantListing#page}) of the key's grants, only {@code grantId} or only {@code
   * grantee}'s when not empty.
   */
  public GrantListing listGrants(
      KeyLookup lookup,
      String keyId,
      String grantId,
      String grantee,
      Integer limit,
      String marker) {
    UUID key = key(lookup, keyId);
    return GrantListing.page(
        control.access().grantsOfKey(key).stream()
            .filter(g -> grantId.isEmpty() || g.grantId().equals(grantId))
            .filter(g -> grantee.isEmpty() || g.grantee().equals(grantee))
            .toList(),
        limit,
        marker);
  }

  /**
   * A page of the grants {@code retiring} may retire; a caller may list only its own, or its
   * account's (as {@code retiring} names it).
   */
  public GrantListing listRetirableGrants(
      Caller caller, String retiring, Integer limit, String marker) {
    if (!KeyPolicy.namesCaller(retiring, caller.principal(), caller.account())
        && !control.admins().contains(caller.principal())) {
      throw new KmsException(
          KmsError.ACCESS_DENIED,
          "principal '" + caller.principal() + "' may list only its own retirable grants");
    }
    return GrantListing.page(control.access().grantsRetirableBy(retiring), limit, marker);
  }

  /**
   * Retires a grant, found by its token or else by key and grant id. As AWS KMS: the retiring
   * principal, the grantee when the grant includes RetireGrant (each of them, or a principal of the
   * account it names), and the administrators (in the place of the account) may.
   */
  public void retireGrant(
      Caller caller, KeyLookup lookup, String grantToken, String keyId, String grantId) {
    GrantRecord grant;
    if (!grantToken.isEmpty()) {
      grant =
          control.access().findGrantByToken(grantToken).orElseThrow(PolicyAndGrantService::noGrant);
    } else {
      grant = grantOfKey(lookup, keyId, grantId);
    }
    String principal = caller.principal();
    String account = caller.account();
    boolean mayRetire =
        KeyPolicy.namesCaller(grant.retiring(), principal, account)
            || (KeyPolicy.namesCaller(grant.grantee(), principal, account)
                && grant.operations().contains("RetireGrant"))
            || control.admins().contains(principal);
    if (!mayRetire) {
      throw new KmsException(
          KmsError.ACCESS_DENIED,
          "principal '"
              + principal
              + "' is neither the retiring principal nor a grantee allowed RetireGrant");
    }
    control.access().deleteGrant(grant.grantId());
  }

  public void revokeGrant(KeyLookup lookup, String keyId, String grantId) {
    control.access().deleteGrant(grantOfKey(lookup, keyId, grantId).grantId());
  }

  private GrantRecord grantOfKey(KeyLookup lookup, String keyId, String grantId) {
    UUID key = key(lookup, keyId);
    return control
        .access()
        .findGrant(grantId)
        .filter(g -> g.keyId().equals(key))
        .orElseThrow(PolicyAndGrantService::noGrant);
  }

  /** The key {@code keyId} names for the request's caller. */
  private static UUID key(KeyLookup lookup, String keyId) {
    return new KeyResolver(lookup)
        .key(keyId, "KeyId")
        .orElseThrow(() -> new KmsException(KmsError.NOT_FOUND, "Key '" + keyId + "' not found"));
  }

  private static byte[] random() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return bytes;
  }

  private static KmsException noGrant() {
    return new KmsException(KmsError.NOT_FOUND, "no such grant");
  }

  private static void requirePolicyName(String name) {
    if (!name.isEmpty() && !name.equals(DEFAULT_POLICY)) {
      throw validation("PolicyName must be 'default'");
    }
  }

  private static KmsException validation(String message) {
    return new KmsException(KmsError.VALIDATION, message);
  }
}
