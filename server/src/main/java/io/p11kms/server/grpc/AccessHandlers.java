package io.p11kms.server.grpc;

import com.google.protobuf.Timestamp;
import io.grpc.ServerMethodDefinition;
import io.grpc.stub.StreamObserver;
import io.p11kms.proto.v1.CreateGrantRequest;
import io.p11kms.proto.v1.CreateGrantResponse;
import io.p11kms.proto.v1.GetKeyPolicyRequest;
import io.p11kms.proto.v1.GetKeyPolicyResponse;
import io.p11kms.proto.v1.GrantConstraints;
import io.p11kms.proto.v1.GrantListEntry;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.proto.v1.ListGrantsRequest;
import io.p11kms.proto.v1.ListGrantsResponse;
import io.p11kms.proto.v1.ListKeyPoliciesRequest;
import io.p11kms.proto.v1.ListKeyPoliciesResponse;
import io.p11kms.proto.v1.ListRetirableGrantsRequest;
import io.p11kms.proto.v1.PutKeyPolicyRequest;
import io.p11kms.proto.v1.PutKeyPolicyResponse;
import io.p11kms.proto.v1.RetireGrantRequest;
import io.p11kms.proto.v1.RetireGrantResponse;
import io.p11kms.proto.v1.RevokeGrantRequest;
import io.p11kms.proto.v1.RevokeGrantResponse;
import io.p11kms.server.auth.Actions;
import io.p11kms.server.auth.KeyPolicy;
import io.p11kms.server.auth.Principals;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.service.Operation;
import io.p11kms.server.store.GrantRecord;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Key policies and grants: PutKeyPolicy, GetKeyPolicy, ListKeyPolicies, CreateGrant, ListGrants,
 * ListRetirableGrants, RetireGrant, RevokeGrant. Authorisation on the key happened already in
 * {@link AccessInterceptor}; RetireGrant and ListRetirableGrants check their principal here.
 */
final class AccessHandlers extends KeyManagementServiceGrpc.KeyManagementServiceImplBase {
  private static final String DEFAULT = "default";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final AccessLayer layer;

  AccessHandlers(AccessLayer layer) {
    this.layer = layer;
  }

  static boolean serves(ServerMethodDefinition<?, ?> m) {
    Operation op = Operation.byName(m.getMethodDescriptor().getBareMethodName());
    return op != null && op.group() == Operation.Group.ACCESS;
  }

  @Override
  public void putKeyPolicy(PutKeyPolicyRequest r, StreamObserver<PutKeyPolicyResponse> out) {
    unary(
        out,
        () -> {
          policyName(r.getPolicyName());
          UUID key = key(r.getKeyId());
          AccessLayer.parsePolicy(r.getPolicy());
          layer.access().putPolicy(key, r.getPolicy(), layer.clock().instant());
          return PutKeyPolicyResponse.getDefaultInstance();
        });
  }

  @Override
  public void getKeyPolicy(GetKeyPolicyRequest r, StreamObserver<GetKeyPolicyResponse> out) {
    unary(
        out,
        () -> {
          policyName(r.getPolicyName());
          UUID key = key(r.getKeyId());
          String policy =
              layer
                  .access()
                  .findPolicy(key)
                  .orElseGet(() -> KeyPolicy.defaultDocument(layer.admins()));
          return GetKeyPolicyResponse.newBuilder().setPolicy(policy).setPolicyName(DEFAULT).build();
        });
  }

  @Override
  public void listKeyPolicies(
      ListKeyPoliciesRequest r, StreamObserver<ListKeyPoliciesResponse> out) {
    unary(
        out,
        () -> {
          key(r.getKeyId());
          return ListKeyPoliciesResponse.newBuilder().addPolicyNames(DEFAULT).build();
        });
  }

  @Override
  public void createGrant(CreateGrantRequest r, StreamObserver<CreateGrantResponse> out) {
    unary(
        out,
        () -> {
          UUID key = key(r.getKeyId());
          if (r.getGranteePrincipal().isBlank()) {
            throw validation("GranteePrincipal is required");
          }
          if (r.getOperationsCount() == 0) {
            throw validation("Operations must name at least one operation");
          }
          for (String op : r.getOperationsList()) {
            if (!Actions.GRANTABLE.contains(op)) {
              throw validation("Operations: '" + op + "' cannot be granted");
            }
          }
          GrantConstraints c = r.getConstraints();
          boolean constrained =
              c.getEncryptionContextEqualsCount() > 0 || c.getEncryptionContextSubsetCount() > 0;
          if (c.getEncryptionContextEqualsCount() > 0 && c.getEncryptionContextSubsetCount() > 0) {
            throw validation(
                "Constraints: give EncryptionContextEquals or EncryptionContextSubset, not both");
          }
          if (constrained
              && r.getOperationsList().stream().anyMatch(Actions.WITHOUT_CONTEXT::contains)) {
            throw validation(
                "Constraints: a grant of Sign, Verify, GetPublicKey, GenerateMac or VerifyMac"
                    + " cannot be constrained");
          }
          byte[] id = new byte[32];
          RANDOM.nextBytes(id);
          byte[] token = new byte[32];
          RANDOM.nextBytes(token);
          GrantRecord grant =
              new GrantRecord(
                  HexFormat.of().formatHex(id),
                  key,
                  r.getName().isEmpty() ? null : r.getName(),
                  r.getGranteePrincipal(),
                  r.getRetiringPrincipal().isEmpty() ? null : r.getRetiringPrincipal(),
                  r.getOperationsList(),
                  c.getEncryptionContextEqualsMap(),
                  c.getEncryptionContextSubsetMap(),
                  Base64.getUrlEncoder().withoutPadding().encodeToString(token),
                  layer.clock().instant());
          layer
              .authorizer()
              .checkDelegation(Principals.current(), grant, layer.access().findPolicy(key));
          layer.access().createGrant(grant);
          return CreateGrantResponse.newBuilder()
              .setGrantId(grant.grantId())
              .setGrantToken(grant.grantToken())
              .build();
        });
  }

  @Override
  public void listGrants(ListGrantsRequest r, StreamObserver<ListGrantsResponse> out) {
    unary(
        out,
        () -> {
          UUID key = key(r.getKeyId());
          return listing(
              layer.access().grantsOfKey(key).stream()
                  .filter(g -> r.getGrantId().isEmpty() || g.grantId().equals(r.getGrantId()))
                  .filter(
                      g ->
                          r.getGranteePrincipal().isEmpty()
                              || g.grantee().equals(r.getGranteePrincipal()))
                  .toList());
        });
  }

  @Override
  public void listRetirableGrants(
      ListRetirableGrantsRequest r, StreamObserver<ListGrantsResponse> out) {
    unary(
        out,
        () -> {
          String caller = Principals.current();
          if (!r.getRetiringPrincipal().equals(caller) && !layer.admins().contains(caller)) {
            throw new KmsException(
                KmsError.ACCESS_DENIED,
                "principal '" + caller + "' may list only its own retirable grants");
          }
          return listing(layer.access().grantsRetirableBy(r.getRetiringPrincipal()));
        });
  }

  @Override
  public void retireGrant(RetireGrantRequest r, StreamObserver<RetireGrantResponse> out) {
    unary(
        out,
        () -> {
          GrantRecord grant;
          if (!r.getGrantToken().isEmpty()) {
            grant =
                layer
                    .access()
                    .findGrantByToken(r.getGrantToken())
                    .orElseThrow(() -> new KmsException(KmsError.NOT_FOUND, "no such grant"));
          } else {
            UUID key = key(r.getKeyId());
            grant =
                layer
                    .access()
                    .findGrant(r.getGrantId())
                    .filter(g -> g.keyId().equals(key))
                    .orElseThrow(() -> new KmsException(KmsError.NOT_FOUND, "no such grant"));
          }
          String caller = Principals.current();
          // As AWS KMS: the retiring principal, the grantee when the grant includes RetireGrant,
          // and the administrators (in the place of the account).
          boolean mayRetire =
              caller.equals(grant.retiring())
                  || (caller.equals(grant.grantee()) && grant.operations().contains("RetireGrant"))
                  || layer.admins().contains(caller);
          if (!mayRetire) {
            throw new KmsException(
                KmsError.ACCESS_DENIED,
                "principal '"
                    + caller
                    + "' is neither the retiring principal nor a grantee allowed RetireGrant");
          }
          layer.access().deleteGrant(grant.grantId());
          return RetireGrantResponse.getDefaultInstance();
        });
  }

  @Override
  public void revokeGrant(RevokeGrantRequest r, StreamObserver<RevokeGrantResponse> out) {
    unary(
        out,
        () -> {
          UUID key = key(r.getKeyId());
          GrantRecord grant =
              layer
                  .access()
                  .findGrant(r.getGrantId())
                  .filter(g -> g.keyId().equals(key))
                  .orElseThrow(() -> new KmsException(KmsError.NOT_FOUND, "no such grant"));
          layer.access().deleteGrant(grant.grantId());
          return RevokeGrantResponse.getDefaultInstance();
        });
  }

  private static ListGrantsResponse listing(List<GrantRecord> grants) {
    ListGrantsResponse.Builder b = ListGrantsResponse.newBuilder();
    for (GrantRecord g : grants) {
      GrantListEntry.Builder e =
          GrantListEntry.newBuilder()
              .setKeyId(g.keyId().toString())
              .setGrantId(g.grantId())
              .setGranteePrincipal(g.grantee())
              .addAllOperations(g.operations())
              .setCreationDate(
                  Timestamp.newBuilder()
                      .setSeconds(g.createdAt().getEpochSecond())
                      .setNanos(g.createdAt().getNano()))
              .setConstraints(
                  GrantConstraints.newBuilder()
                      .putAllEncryptionContextEquals(g.contextEquals())
                      .putAllEncryptionContextSubset(g.contextSubset()));
      if (g.name() != null) {
        e.setName(g.name());
      }
      if (g.retiring() != null) {
        e.setRetiringPrincipal(g.retiring());
      }
      b.addGrants(e);
    }
    return b.build();
  }

  private UUID key(String keyId) {
    return layer
        .keys()
        .key(keyId, "KeyId")
        .orElseThrow(() -> new KmsException(KmsError.NOT_FOUND, "Key '" + keyId + "' not found"));
  }

  private static void policyName(String name) {
    if (!name.isEmpty() && !name.equals(DEFAULT)) {
      throw validation("PolicyName must be 'default'");
    }
  }

  private static KmsException validation(String message) {
    return new KmsException(KmsError.VALIDATION, message);
  }

  private static <T> void unary(StreamObserver<T> response, Supplier<T> call) {
    T result;
    try {
      result = call.get();
    } catch (RuntimeException e) {
      response.onError(ErrorStatus.of(e));
      return;
    }
    response.onNext(result);
    response.onCompleted();
  }
}
