package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_DEVICE_ERROR;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.p11kms.hsm.testing.FaultInjector;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The gRPC health service follows the token: NOT_SERVING while every token call fails, SERVING
 * again once the token answers, with no restart; meanwhile calls fail fast as retryable.
 */
class HealthIT {

  @Test
  void health_notServingWhileTheTokenFails_servingAgainAfterRecoveryWithoutRestart()
      throws Exception {
    FaultInjector faults = new FaultInjector();
    try (KmsTestServer server = KmsTestServer.start(faults, Duration.ofMillis(200))) {
      String keyId =
          server
              .client()
              .createKey(CreateKeyRequest.getDefaultInstance())
              .getKeyMetadata()
              .getKeyId();
      assertThat(status(server, "")).isEqualTo(ServingStatus.SERVING);

      faults.failAlways("*", CKR_DEVICE_ERROR);
      awaitStatus(server, ServingStatus.NOT_SERVING);
      assertThat(status(server, KeyManagementServiceGrpc.SERVICE_NAME))
          .isEqualTo(ServingStatus.NOT_SERVING);
      Rpc.assertFails(
          () -> server.client().encrypt(encrypt(keyId)),
          Status.Code.UNAVAILABLE,
          "DependencyTimeoutException");

      faults.clear();
      awaitStatus(server, ServingStatus.SERVING);
      ByteString blob = server.client().encrypt(encrypt(keyId)).getCiphertextBlob();
      assertThat(
              server
                  .client()
                  .decrypt(DecryptRequest.newBuilder().setCiphertextBlob(blob).build())
                  .getPlaintext()
                  .toStringUtf8())
          .isEqualTo("still here");
    }
  }

  private static EncryptRequest encrypt(String keyId) {
    return EncryptRequest.newBuilder()
        .setKeyId(keyId)
        .setPlaintext(ByteString.copyFromUtf8("still here"))
        .build();
  }

  private static ServingStatus status(KmsTestServer server, String service) {
    return HealthGrpc.newBlockingStub(server.channel())
        .check(HealthCheckRequest.newBuilder().setService(service).build())
        .getStatus();
  }

  private static void awaitStatus(KmsTestServer server, ServingStatus wanted)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (status(server, "") != wanted) {
      assertThat(System.nanoTime()).as("health became " + wanted + " in time").isLessThan(deadline);
      Thread.sleep(50);
    }
  }
}
