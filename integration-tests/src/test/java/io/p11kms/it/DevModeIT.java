package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plaintext loopback listener, where every caller is an administrator of every key, only when
 * development mode is asked for by name: {@code Main serve} on the token set-up run.sh makes (no
 * TLS files) refuses to start without {@code --dev} or {@code dev.mode=true}, and says both; with
 * either it serves and warns at start.
 */
class DevModeIT {
  @TempDir static Path temp;
  private static Path dataDir;

  @BeforeAll
  static void setUp() throws Exception {
    dataDir = temp.resolve("data");
    ServerProcess.initToken(dataDir);
  }

  @Test
  void noTlsFilesAndNoDevMode_serverRefusesToStart() throws Exception {
    Files.deleteIfExists(ServerProcess.log(dataDir));
    Process process = ServerProcess.launch(dataDir);
    String stdout;
    try (InputStream out = process.getInputStream()) {
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("server exits").isTrue();
      stdout = new String(out.readAllBytes(), StandardCharsets.UTF_8);
    } finally {
      process.destroyForcibly();
    }

    assertThat(process.exitValue()).isEqualTo(1);
    assertThat(stdout).doesNotContain("p11kms listening");
    String log = Files.readString(ServerProcess.log(dataDir));
    assertThat(log)
        .contains("p11kms serve: no listener security configured")
        .contains("tls.cert.file")
        .contains("dev.mode=true")
        .contains("serve --dev")
        .doesNotContain("\tat ");
  }

  @Test
  void serveDev_serves_asAnAdministrator_andWarns() throws Exception {
    Files.deleteIfExists(ServerProcess.log(dataDir));
    try (ServerProcess server = ServerProcess.start(dataDir)) {
      assertEncryptDecryptWorks(server);
    }
    assertWarned();
  }

  @Test
  void devModeInTheConfiguration_serves_andWarns() throws Exception {
    Path config = dataDir.resolve("p11kms.properties");
    String original = Files.readString(config);
    Files.deleteIfExists(ServerProcess.log(dataDir));
    Files.writeString(config, original + "dev.mode=true\n");
    Process process = ServerProcess.launch(dataDir);
    try {
      String listening;
      try (var out =
          new java.io.BufferedReader(
              new java.io.InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        listening = out.readLine();
        while (listening != null && !listening.startsWith("p11kms listening")) {
          listening = out.readLine();
        }
      }
      assertThat(listening).startsWith("p11kms listening on 127.0.0.1:");
    } finally {
      process.destroy();
      process.waitFor(30, TimeUnit.SECONDS);
      process.destroyForcibly();
      Files.writeString(config, original);
    }
    assertWarned();
  }

  private static void assertWarned() throws Exception {
    assertThat(Files.readString(ServerProcess.log(dataDir)))
        .containsPattern("WARN io\\.p11kms\\.server\\.KmsServer - DEVELOPMENT MODE")
        .contains("every caller is local:developer and an administrator of every key");
  }

  private static void assertEncryptDecryptWorks(ServerProcess server) throws Exception {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    try {
      KeyManagementServiceBlockingStub kms =
          KeyManagementServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
      String keyId =
          kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
      ByteString plaintext = ByteString.copyFromUtf8("dev mode");
      ByteString blob =
          kms.encrypt(EncryptRequest.newBuilder().setKeyId(keyId).setPlaintext(plaintext).build())
              .getCiphertextBlob();
      assertThat(
              kms.decrypt(DecryptRequest.newBuilder().setCiphertextBlob(blob).build())
                  .getPlaintext())
          .isEqualTo(plaintext);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
