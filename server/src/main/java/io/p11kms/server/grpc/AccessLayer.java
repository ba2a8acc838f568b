package io.p11kms.server.grpc;

import com.google.protobuf.Message;
import io.grpc.BindableService;
import io.grpc.ForwardingServerBuilder;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.p11kms.hsm.Hsm;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.CreateKeyResponse;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.server.audit.AuditLog;
import io.p11kms.server.auth.Authorizer;
import io.p11kms.server.auth.KeyPolicy;
import io.p11kms.server.auth.MalformedPolicyException;
import io.p11kms.server.auth.PrincipalInterceptor;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.service.KeyLookup;
import io.p11kms.server.service.KeyResolver;
import io.p11kms.server.service.KeyService;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.store.AccessStore;
import io.p11kms.server.store.KeyStore;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Principals, key policies, grants and the audit log, laid over the KMS service: {@link #install}
 * wraps a server builder so that the KMS service registered on it gets the policy and grant RPCs
 * ({@link AccessHandlers}), the {@link PrincipalInterceptor} and the {@link AccessInterceptor}.
 * Without a layer the server runs as before (no checks, no audit).
 */
public final class AccessLayer implements AutoCloseable {
  private final boolean tls;
  private final List<String> admins;
  private final KeyArns arns;
  private final Clock clock;
  private final AccessStore access;
  private final Authorizer authorizer;
  private final KeyService keys;
  private final AuditLog audit;

  /**
   * @param tls whether principals come from client certificates; without TLS every call is {@code
   *     local:developer}, which is then an administrator
   * @param admins principals given {@code kms:*} by every default key policy
   */
  public AccessLayer(
      boolean tls,
      List<String> admins,
      Hsm hsm,
      KeyStore store,
      KeyArns arns,
      Clock clock,
      AuditLog audit) {
    this.tls = tls;
    List<String> all = new ArrayList<>(admins);
    if (!tls) {
      all.add(io.p11kms.server.auth.Principals.LOCAL);
    }
    this.admins = List.copyOf(all);
    this.arns = arns;
    this.clock = clock;
    this.access = AccessStore.of(store);
    this.authorizer = new Authorizer(access, arns, this.admins);
    this.keys = new KeyService(hsm, store, arns, clock);
    this.audit = audit;
  }

  /** {@code builder}, with this layer over the KMS service; {@code builder} when null. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  public static ServerBuilder<?> install(ServerBuilder<?> builder, AccessLayer layer) {
    if (layer == null) {
      return builder;
    }
    return new ForwardingServerBuilder() {
      @Override
      protected ServerBuilder<?> delegate() {
        return builder;
      }

      @Override
      public ServerBuilder addService(BindableService service) {
        ServerServiceDefinition definition = service.bindService();
        if (definition
            .getServiceDescriptor()
            .getName()
            .equals(KeyManagementServiceGrpc.SERVICE_NAME)) {
          builder.addService(layer.wrap(definition));
        } else {
          builder.addService(definition);
        }
        return this;
      }

      @Override
      public Server build() {
        return builder.build();
      }
    };
  }

  ServerServiceDefinition wrap(ServerServiceDefinition kms) {
    ServerServiceDefinition mine = new AccessHandlers(this).bindService();
    ServerServiceDefinition.Builder merged =
        ServerServiceDefinition.builder(kms.getServiceDescriptor());
    for (ServerMethodDefinition<?, ?> m : kms.getMethods()) {
      ServerMethodDefinition<?, ?> own =
          mine.getMethod(m.getMethodDescriptor().getFullMethodName());
      if (AccessHandlers.serves(m) && own != null) {
        addMethod(merged, own);
      } else {
        addMethod(merged, m);
      }
    }
    return ServerInterceptors.intercept(
        merged.build(), new AccessInterceptor(this), new PrincipalInterceptor(tls));
  }

  @SuppressWarnings("unchecked")
  private static <Q, R> void addMethod(
      ServerServiceDefinition.Builder builder, ServerMethodDefinition<Q, R> method) {
    builder.addMethod(method);
  }

  /** A new, empty {@link KeyLookup} for one request. */
  KeyLookup lookup() {
    return keys.lookup();
  }

  /**
   * Authorises one request; the checks it passed. {@code resolved} sees the checks before they are
   * made, so that a denied request is recorded with its key and context keys. The keys and policies
   * are read through {@code lookup}, the request's, which its handler reuses.
   */
  List<AccessRules.Check> authorize(
      String principal,
      String method,
      Message request,
      KeyLookup lookup,
      java.util.function.Consumer<List<AccessRules.Check>> resolved) {
    if (method.equals("CreateKey")) {
      String policy = ((CreateKeyRequest) request).getPolicy();
      if (!policy.isEmpty()) {
        parsePolicy(policy);
      }
    }
    var rule = AccessRules.rule(method);
    if (rule.isEmpty()) {
      if (!admins.contains(principal)) {
        throw new KmsException(
            KmsError.ACCESS_DENIED,
            "principal '" + principal + "' is not authorized to perform kms:" + method);
      }
      return List.of();
    }
    List<AccessRules.Check> checks = rule.get().checks(method, request, new KeyResolver(lookup));
    resolved.accept(checks);
    for (AccessRules.Check c : checks) {
      authorizer.check(principal, c.action(), c.keyId(), c.context(), lookup.policy(c.keyId()));
    }
    return checks;
  }

  /** After a successful call: CreateKey stores its key's policy. The key ARN, or null. */
  String afterSuccess(String principal, String method, Message request, Message response) {
    if (!(response instanceof CreateKeyResponse created)) {
      return null;
    }
    UUID keyId = UUID.fromString(created.getKeyMetadata().getKeyId());
    String policy = ((CreateKeyRequest) request).getPolicy();
    if (policy.isEmpty()) {
      List<String> principals = new ArrayList<>();
      principals.add(principal);
      principals.addAll(admins);
      policy = KeyPolicy.defaultDocument(principals);
    }
    access.putPolicy(keyId, policy, clock.instant());
    return created.getKeyMetadata().getArn();
  }

  /** Throws {@code AuditException} when a request's record could not be written now. */
  void ensureAuditWritable() {
    if (audit != null) {
      audit.ensureWritable();
    }
  }

  void audit(AuditLog.Entry entry) {
    if (audit != null) {
      audit.append(entry);
    }
  }

  static KeyPolicy parsePolicy(String policy) {
    try {
      return KeyPolicy.parse(policy);
    } catch (MalformedPolicyException e) {
      throw new KmsException(KmsError.MALFORMED_POLICY, e.getMessage());
    }
  }

  String arn(UUID keyId) {
    return arns.keyArn(keyId);
  }

  List<String> admins() {
    return admins;
  }

  Authorizer authorizer() {
    return authorizer;
  }

  AccessStore access() {
    return access;
  }

  /** Finds keys with reads of its own (not a request's). */
  KeyResolver keys() {
    return new KeyResolver(keys.lookup());
  }

  Clock clock() {
    return clock;
  }

  @Override
  public void close() {
    if (audit != null) {
      audit.close();
    }
  }
}
