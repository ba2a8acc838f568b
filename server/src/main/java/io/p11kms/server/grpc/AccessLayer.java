package io.p11kms.server.grpc;

import io.grpc.BindableService;
import io.grpc.ForwardingServerBuilder;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.server.access.AccessControl;

/**
 * The gRPC side of {@link AccessControl}: {@link #install} wraps a server builder so that the KMS
 * service registered on it gets the policy and grant RPCs ({@link AccessHandlers}) and the {@link
 * AccessInterceptor} (the principal from the TLS session, each call through {@link AccessControl}).
 */
public final class AccessLayer implements AutoCloseable {
  private final AccessControl control;

  public AccessLayer(AccessControl control) {
    this.control = control;
  }

  /** The service's access control under this layer. */
  public AccessControl control() {
    return control;
  }

  /** {@code builder}, with this layer over the KMS service. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  public static ServerBuilder<?> install(ServerBuilder<?> builder, AccessLayer layer) {
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
    return ServerInterceptors.intercept(merged.build(), new AccessInterceptor(control));
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
