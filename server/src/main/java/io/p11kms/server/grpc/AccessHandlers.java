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
import io.p11kms.server.access.AccessControl;
import io.p11kms.server.access.GrantListing;
import io.p11kms.server.access.PolicyAndGrantService;
import io.p11kms.server.service.Operation;
import io.p11kms.server.store.GrantRecord;
import java.util.function.Supplier;

/**
 * The gRPC codec of the key policy and grant operations ({@link PolicyAndGrantService}):
 * PutKeyPolicy, GetKeyPolicy, ListKeyPolicies, CreateGrant, ListGrants, ListRetirableGrants,
 * RetireGrant, RevokeGrant. The caller is the one the access layer found for the call (the customer
 * a service acts for, if it does), keys are found with the call's lookup.
 */
final class AccessHandlers extends KeyManagementServiceGrpc.KeyManagementServiceImplBase {
  private final AccessControl control;
  private final PolicyAndGrantService service;

  AccessHandlers(AccessControl control) {
    this.control = control;
    this.service = new PolicyAndGrantService(control);
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
          service.putKeyPolicy(
              RequestLookups.current(control), r.getKeyId(), r.getPolicyName(), r.getPolicy());
          return PutKeyPolicyResponse.getDefaultInstance();
        });
  }

  @Override
  public void getKeyPolicy(GetKeyPolicyRequest r, StreamObserver<GetKeyPolicyResponse> out) {
    unary(
        out,
        () ->
            GetKeyPolicyResponse.newBuilder()
                .setPolicy(
                    service.getKeyPolicy(
                        RequestLookups.current(control), r.getKeyId(), r.getPolicyName()))
                .setPolicyName(PolicyAndGrantService.DEFAULT_POLICY)
                .build());
  }

  @Override
  public void listKeyPolicies(
      ListKeyPoliciesRequest r, StreamObserver<ListKeyPoliciesResponse> out) {
    unary(
        out,
        () ->
            ListKeyPoliciesResponse.newBuilder()
                .addAllPolicyNames(
                    service.listKeyPolicies(RequestLookups.current(control), r.getKeyId()))
                .build());
  }

  @Override
  public void createGrant(CreateGrantRequest r, StreamObserver<CreateGrantResponse> out) {
    unary(
        out,
        () -> {
          GrantConstraints c = r.getConstraints();
          GrantRecord grant =
              service.createGrant(
                  RequestLookups.caller(control),
                  RequestLookups.current(control),
                  r.getKeyId(),
                  new PolicyAndGrantService.NewGrant(
                      r.getName().isEmpty() ? null : r.getName(),
                      r.getGranteePrincipal(),
                      r.getRetiringPrincipal().isEmpty() ? null : r.getRetiringPrincipal(),
                      r.getOperationsList(),
                      c.getEncryptionContextEqualsMap(),
                      c.getEncryptionContextSubsetMap()));
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
        () ->
            listing(
                service.listGrants(
                    RequestLookups.current(control),
                    r.getKeyId(),
                    r.getGrantId(),
                    r.getGranteePrincipal(),
                    r.hasLimit() ? r.getLimit() : null,
                    r.getMarker())));
  }

  @Override
  public void listRetirableGrants(
      ListRetirableGrantsRequest r, StreamObserver<ListGrantsResponse> out) {
    unary(
        out,
        () ->
            listing(
                service.listRetirableGrants(
                    RequestLookups.caller(control),
                    r.getRetiringPrincipal(),
                    r.hasLimit() ? r.getLimit() : null,
                    r.getMarker())));
  }

  @Override
  public void retireGrant(RetireGrantRequest r, StreamObserver<RetireGrantResponse> out) {
    unary(
        out,
        () -> {
          service.retireGrant(
              RequestLookups.caller(control),
              RequestLookups.current(control),
              r.getGrantToken(),
              r.getKeyId(),
              r.getGrantId());
          return RetireGrantResponse.getDefaultInstance();
        });
  }

  @Override
  public void revokeGrant(RevokeGrantRequest r, StreamObserver<RevokeGrantResponse> out) {
    unary(
        out,
        () -> {
          service.revokeGrant(RequestLookups.current(control), r.getKeyId(), r.getGrantId());
          return RevokeGrantResponse.getDefaultInstance();
        });
  }

  private static ListGrantsResponse listing(GrantListing page) {
    ListGrantsResponse.Builder b = ListGrantsResponse.newBuilder();
    page.nextMarker().ifPresent(m -> b.setTruncated(true).setNextMarker(m));
    for (GrantRecord g : page.grants()) {
      GrantListEntry.Builder e =
          GrantListEntry.newBuilder()
              .setKeyId(io.p11kms.server.config.KeyArns.keyIdText(g.keyId()))
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
