package io.p11kms.server.grpc;

import io.grpc.BindableService;
import io.grpc.ForwardingServerBuilder;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.p11kms.hsm.Hsm;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.server.access.AccessControl;
import io.p11kms.server.audit.AuditLog;
import io.p11kms.server.auth.PrincipalInterceptor;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.KeyStore;
import java.time.Clock;
import java.util.List;

/**
 * The gRPC side of {@link AccessControl}: {@link #install} wraps a server builder so that the KMS
 * service registered on it gets the policy and grant RPCs ({@link AccessHandlers}), the {@link
 * PrincipalInterceptor} (the principal from the TLS session) and the {@link AccessInterceptor}
 * (each call through {@link AccessControl}).
 */
public final class AccessLayer implements AutoCloseable {
  private final boolean tls;
  private final AccessControl control;

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
    this.control = new AccessControl(tls, admins, hsm, store, arns, clock, audit);
  }

  /** The service's access control under this layer. */
  public AccessControl control() {
    return control;
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
    ServerServiceDefinition mine = new AccessHandlers(control).bindService();
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
        merged.build(), new AccessInterceptor(control), new PrincipalInterceptor(tls));
  }

  @SuppressWarnings("unchecked")
  private static <Q, R> void addMethod(
      ServerServiceDefinition.Builder builder, ServerMethodDefinition<Q, R> method) {
    builder.addMethod(method);
  }

  @Override
  public void close() {
    control.close();
  }
}
