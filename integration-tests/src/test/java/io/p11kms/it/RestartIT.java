package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server process as users run it (the set-up script, then {@code Main serve}), stopped and
 * started again: every earlier ciphertext still decrypts.
 */
class RestartIT {
  @TempDir Path temp;

  @Test
  void ciphertextsMadeBeforeARestart_decryptAfterIt() throws Exception {
    Path dataDir = temp.resolve("data");
    ServerProcess.initToken(dataDir);

    Map<ByteString, ByteString> ciphertexts = new LinkedHashMap<>();
    String keyId;
    try (ServerProcess first = ServerProcess.start(dataDir)) {
      keyId =
          call(
              first,
              kms ->
                  kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId());
      for (int i = 0; i < 20; i++) {
        ByteString plaintext = ByteString.copyFromUtf8("record " + i);
        ByteString blob =
            call(
                first,
                kms ->
                    kms.encrypt(
                            EncryptRequest.newBuilder()
                                .setKeyId(keyId)
                                .setPlaintext(plaintext)
                                .putEncryptionContext("n", Integer.toString(plaintext.size()))
                                .build())
                        .getCiphertextBlob());
        ciphertexts.put(blob, plaintext);
      }
      assertThat(first.stop()).as("exit status after SIGTERM").isIn(0, 143);
    }

    try (ServerProcess second = ServerProcess.start(dataDir)) {
      HealthCheckResponse.ServingStatus health =
          withChannel(
              second,
              channel ->
                  HealthGrpc.newBlockingStub(channel)
                      .check(HealthCheckRequest.getDefaultInstance())
                      .getStatus());
      assertThat(health).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
      for (Map.Entry<ByteString, ByteString> entry : ciphertexts.entrySet()) {
        ByteString decrypted =
            call(
                second,
                kms ->
                    kms.decrypt(
                            DecryptRequest.newBuilder()
                                .setCiphertextBlob(entry.getKey())
                                .putEncryptionContext(
                                    "n", Integer.toString(entry.getValue().size()))
                                .build())
                        .getPlaintext());
        assertThat(decrypted).isEqualTo(entry.getValue());
      }
    }
    assertThat(ciphertexts).hasSize(20);
  }

  private static <T> T call(ServerProcess server, Function<KeyManagementServiceBlockingStub, T> f)
      throws InterruptedException {
    return withChannel(
        server,
        channel ->
            f.apply(
                KeyManagementServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(30, TimeUnit.SECONDS)));
  }

  private static <T> T withChannel(ServerProcess server, Function<ManagedChannel, T> f)
      throws InterruptedException {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    try {
      return f.apply(channel);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
