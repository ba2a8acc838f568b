package io.p11kms.server.grpc;

import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.server.frontend.FrontEnd;
import io.p11kms.server.service.KmsServices;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC front end, running: the KMS service under the {@link AccessLayer}, the gRPC health
 * service (whose status follows the token's, {@link #reportServing}) and server reflection, on the
 * transport of the builder it is given (tests may hand in an in-process builder).
 */
public final class GrpcFrontEnd implements FrontEnd {
  private final Server server;
  private final HealthStatusManager health;

  private GrpcFrontEnd(Server server, HealthStatusManager health) {
    this.server = server;
    this.health = health;
  }

  /**
   * Builds the server on {@code builder} over {@code services}, each call through {@code access},
   * and listens, reporting SERVING.
   *
   * @throws UncheckedIOException when it cannot listen
   */
  public static GrpcFrontEnd start(
      ServerBuilder<?> builder, KmsServices services, AccessLayer access) {
    HealthStatusManager health = new HealthStatusManager();
    Server server =
        AccessLayer.install(builder, access)
            .addService(new KmsGrpcService(services))
            .addService(health.getHealthService())
            .addService(ProtoReflectionServiceV1.newInstance())
            .build();
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen: " + e.getMessage(), e);
    }
    GrpcFrontEnd frontEnd = new GrpcFrontEnd(server, health);
    frontEnd.reportServing(true);
    return frontEnd;
  }

  /** Sets the health status of the server and of the KMS service: SERVING, or NOT_SERVING. */
  public void reportServing(boolean serving) {
    ServingStatus status = serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    health.setStatus("", status);
    health.setStatus(KeyManagementServiceGrpc.SERVICE_NAME, status);
  }

  @Override
  public int port() {
    return server.getPort();
  }

  /** Waits until the server has terminated. */
  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  @Override
  public void close() {
    health.enterTerminalState();
    server.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
