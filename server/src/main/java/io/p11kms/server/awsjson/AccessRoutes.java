package io.p11kms.server.awsjson;

import static io.p11kms.server.awsjson.Members.orEmpty;

import io.p11kms.server.access.AccessControl;
import io.p11kms.server.access.GrantListing;
import io.p11kms.server.access.OperationRequest;
import io.p11kms.server.access.PolicyAndGrantService;
import io.p11kms.server.awsjson.SharedMessages.KeyPageRequest;
import io.p11kms.server.service.Operation;
import io.p11kms.server.store.GrantRecord;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Key policies and grants: their members as the KMS service model names them. */
final class AccessRoutes {
  private AccessRoutes() {}

  record PutKeyPolicyRequest(
      String keyId, String policyName, String policy, Boolean bypassPolicyLockoutSafetyCheck)
      implements OperationRequest {
    PutKeyPolicyRequest {
      keyId = orEmpty(keyId);
      policyName = orEmpty(policyName);
      policy = orEmpty(policy);
    }
  }

  record GetKeyPolicyRequest(String keyId, String policyName) implements OperationRequest {
    GetKeyPolicyRequest {
      keyId = orEmpty(keyId);
      policyName = orEmpty(policyName);
    }
  }

  record CreateGrantRequest(
      String keyId,
      String granteePrincipal,
      String retiringPrincipal,
      List<String> operations,
      Constraints constraints,
      List<String> grantTokens,
      String name,
      Boolean dryRun)
      implements OperationRequest {
    CreateGrantRequest {
      keyId = orEmpty(keyId);
      granteePrincipal = orEmpty(granteePrincipal);
      operations = orEmpty(operations);
      constraints = constraints == null ? new Constraints(null, null) : constraints;
      grantTokens = orEmpty(grantTokens);
    }
  }

  record Constraints(
      Map<String, String> encryptionContextSubset, Map<String, String> encryptionContextEquals) {
    Constraints {
      encryptionContextSubset = orEmpty(encryptionContextSubset);
      encryptionContextEquals = orEmpty(encryptionContextEquals);
    }
  }

  /** A constraint of a listed grant, left out when empty. */
  private static Map<String, String> orNull(Map<String, String> map) {
    return map.isEmpty() ? null : map;
  }

  record ListGrantsRequest(
      Integer limit, String marker, String keyId, String grantId, String granteePrincipal)
      implements OperationRequest {
    ListGrantsRequest {
      keyId = orEmpty(keyId);
      grantId = orEmpty(grantId);
      granteePrincipal = orEmpty(granteePrincipal);
    }
  }

  record ListRetirableGrantsRequest(Integer limit, String marker, String retiringPrincipal)
      implements OperationRequest {
    ListRetirableGrantsRequest {
      retiringPrincipal = orEmpty(retiringPrincipal);
    }
  }

  record GrantRequest(String grantToken, String keyId, String grantId, Boolean dryRun)
      implements OperationRequest {
    GrantRequest {
      grantToken = orEmpty(grantToken);
      keyId = orEmpty(keyId);
      grantId = orEmpty(grantId);
    }
  }

  record GetKeyPolicyResponse(String policy, String policyName) {}

  record ListKeyPoliciesResponse(List<String> policyNames, Boolean truncated) {}

  record CreateGrantResponse(String grantToken, String grantId) {}

  record ListGrantsResponse(List<GrantEntry> grants, String nextMarker, Boolean truncated) {}

  record GrantEntry(
      String keyId,
      String grantId,
      String name,
      Instant creationDate,
      String granteePrincipal,
      String retiringPrincipal,
      List<String> operations,
      ListedConstraints constraints) {}

  /** A listed grant's constraints; a constraint it does not have is left out. */
  record ListedConstraints(
      Map<String, String> encryptionContextSubset, Map<String, String> encryptionContextEquals) {}

  static List<Route<?, ?>> routes(AccessControl control) {
    PolicyAndGrantService service = new PolicyAndGrantService(control);
    return List.of(
        Route.of(
            Operation.PUT_KEY_POLICY,
            PutKeyPolicyRequest.class,
            (c, r) -> {
              service.putKeyPolicy(c.lookup(), r.keyId(), r.policyName(), r.policy());
              return Route.Empty.INSTANCE;
            }),
        Route.of(
            Operation.GET_KEY_POLICY,
            GetKeyPolicyRequest.class,
            (c, r) ->
                new GetKeyPolicyResponse(
                    service.getKeyPolicy(c.lookup(), r.keyId(), r.policyName()),
                    PolicyAndGrantService.DEFAULT_POLICY)),
        Route.of(
            Operation.LIST_KEY_POLICIES,
            KeyPageRequest.class,
            (c, r) ->
                new ListKeyPoliciesResponse(service.listKeyPolicies(c.lookup(), r.keyId()), false)),
        Route.of(
            Operation.CREATE_GRANT,
            CreateGrantRequest.class,
            (c, r) -> {
              Members.refuseDryRun(r.dryRun());
              GrantRecord grant =
                  service.createGrant(
                      c.caller().effective(),
                      c.lookup(),
                      r.keyId(),
                      new PolicyAndGrantService.NewGrant(
                          r.name() == null || r.name().isEmpty() ? null : r.name(),
                          r.granteePrincipal(),
                          r.retiringPrincipal() == null || r.retiringPrincipal().isEmpty()
                              ? null
                              : r.retiringPrincipal(),
                          r.operations(),
                          r.constraints().encryptionContextEquals(),
                          r.constraints().encryptionContextSubset()));
              return new CreateGrantResponse(grant.grantToken(), grant.grantId());
            }),
        Route.of(
            Operation.LIST_GRANTS,
            ListGrantsRequest.class,
            (c, r) ->
                listing(
                    control,
                    service.listGrants(
                        c.lookup(),
                        r.keyId(),
                        r.grantId(),
                        r.granteePrincipal(),
                        r.limit(),
                        r.marker()))),
        Route.of(
            Operation.LIST_RETIRABLE_GRANTS,
            ListRetirableGrantsRequest.class,
            (c, r) ->
                listing(
                    control,
                    service.listRetirableGrants(
                        c.caller().effective(), r.retiringPrincipal(), r.limit(), r.marker()))),
        Route.of(
            Operation.RETIRE_GRANT,
            GrantRequest.class,
            (c, r) -> {
              Members.refuseDryRun(r.dryRun());
              service.retireGrant(
                  c.caller().effective(), c.lookup(), r.grantToken(), r.keyId(), r.grantId());
              return Route.Empty.INSTANCE;
            }),
        Route.of(
            Operation.REVOKE_GRANT,
            GrantRequest.class,
            (c, r) -> {
              Members.refuseDryRun(r.dryRun());
              service.revokeGrant(c.lookup(), r.keyId(), r.grantId());
              return Route.Empty.INSTANCE;
            }));
  }

  private static ListGrantsResponse listing(AccessControl control, GrantListing page) {
    return new ListGrantsResponse(
        page.grants().stream()
            .map(
                g ->
                    new GrantEntry(
                        control.arn(g.keyId()),
                        g.grantId(),
                        g.name(),
                        g.createdAt(),
                        g.grantee(),
                        g.retiring(),
                        g.operations(),
                        g.contextSubset().isEmpty() && g.contextEquals().isEmpty()
                            ? null
                            : new ListedConstraints(
                                orNull(g.contextSubset()), orNull(g.contextEquals()))))
            .toList(),
        page.nextMarker().orElse(null),
        page.truncated());
  }
}
