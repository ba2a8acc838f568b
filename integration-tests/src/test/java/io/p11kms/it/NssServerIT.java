package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.p11kms.hsm.testing.NssTestToken;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.GenerateDataKeyRequest;
import io.p11kms.proto.v1.GenerateDataKeyResponse;
import io.p11kms.proto.v1.GenerateMacRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.KeySpec;
import io.p11kms.proto.v1.KeyUsage;
import io.p11kms.proto.v1.MacAlgorithmSpec;
import io.p11kms.proto.v1.MessageType;
import io.p11kms.proto.v1.SignRequest;
import io.p11kms.proto.v1.SigningAlgorithmSpec;
import io.p11kms.proto.v1.VerifyRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server process on NSS softoken, a second PKCS#11 implementation, chosen by its configuration
 * file alone (the library, its initialization string, the token label, the PIN file, and the
 * allowance a token without custody needs): the domain keys made by {@code p11kms init-domain-key
 * --config} on that file, black-box round trips through a real gRPC client, and {@code p11kms
 * doctor} green on the same file.
 */
class NssServerIT {
  @TempDir Path temp;
  private Path dataDir;
  private NssTestToken token;

  @BeforeEach
  void makeToken() throws Exception {
    dataDir = temp.resolve("data");
    token = NssTestToken.createIn(dataDir);
    Files.writeString(
        dataDir.resolve("p11kms.properties"),
        String.join(
            "\n",
            "listen.host=127.0.0.1",
            "listen.port=0",
            "hsm.module=" + token.modulePath(),
            "hsm.module.init.string=" + token.initString(),
            "hsm.custody.unenforced.allowed=true",
            "hsm.token.label=" + token.label(),
            "hsm.pin.file=user.pin",
            "store.jdbc.url=jdbc:sqlite:" + dataDir.resolve("p11kms.db"),
            ""),
        StandardCharsets.UTF_8);
    // The domain keys, made by the user from the same file (NSS softoken has no SO that can make a
    // secret key), in a process of its own.
    Command ceremony = p11kms("init-domain-key", "--config", properties().toString());
    assertThat(ceremony.exitCode()).as(ceremony.output()).isZero();
    assertThat(ceremony.output()).contains("created domain-key/1", "created domain-key-hmac/1");
  }

  private Path properties() {
    return dataDir.resolve("p11kms.properties");
  }

  /** What a {@code p11kms} command run in a JVM of its own printed, and its exit code. */
  private record Command(int exitCode, String output) {}

  private static Command p11kms(String... args) throws Exception {
    List<String> command =
        new java.util.ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "io.p11kms.server.Main"));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    return new Command(process.exitValue(), output);
  }

  @AfterEach
  void deleteToken() {
    token.close();
  }

  @Test
  void serverOnNss_roundTripsEveryKindOfKey_andDoctorIsGreen() throws Exception {
    try (ServerProcess server = ServerProcess.start(dataDir)) {
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
      try {
        KeyManagementServiceBlockingStub kms =
            KeyManagementServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(60, TimeUnit.SECONDS);
        assertSymmetricRoundTrip(kms);
        assertRsaSignature(kms);
        assertHmac(kms);
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
    assertThat(Files.readString(ServerProcess.log(dataDir)))
        .contains("does not enforce key custody")
        .doesNotContain(Files.readString(token.userPinFile()));

    Command doctor = p11kms("doctor", "--config", properties().toString());
    String report = doctor.output();
    assertThat(doctor.exitCode()).as(report).isZero();
    assertThat(report)
        .contains("OK   custody: NOT enforced")
        .contains("OK   AES-GCM: encrypts with the PKCS#11 3.0 message API")
        .contains("OK   domain-key/1")
        .contains("result: OK")
        .doesNotContain("FAIL");
  }

  @Test
  void serverOnNss_withoutTheAllowance_refusesToStart() throws Exception {
    Path properties = dataDir.resolve("p11kms.properties");
    Files.writeString(
        properties,
        Files.readString(properties).replace("hsm.custody.unenforced.allowed=true\n", ""));

    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ServerProcess.start(dataDir))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("does not enforce key custody")
        .hasMessageContaining("CKA_WRAP_WITH_TRUSTED");
  }

  private static void assertSymmetricRoundTrip(KeyManagementServiceBlockingStub kms) {
    String keyId = kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
    for (String text : List.of("a small secret", "x".repeat(4096))) {
      ByteString plaintext = ByteString.copyFromUtf8(text);
      ByteString blob =
          kms.encrypt(
                  EncryptRequest.newBuilder()
                      .setKeyId(keyId)
                      .setPlaintext(plaintext)
                      .putEncryptionContext("app", "nss")
                      .build())
              .getCiphertextBlob();
      assertThat(
              kms.decrypt(
                      DecryptRequest.newBuilder()
                          .setCiphertextBlob(blob)
                          .putEncryptionContext("app", "nss")
                          .build())
                  .getPlaintext())
          .isEqualTo(plaintext);
    }
    GenerateDataKeyResponse dataKey =
        kms.generateDataKey(
            GenerateDataKeyRequest.newBuilder()
                .setKeyId(keyId)
                .setKeySpec(io.p11kms.proto.v1.DataKeySpec.AES_256)
                .build());
    assertThat(dataKey.getPlaintext().size()).isEqualTo(32);
    assertThat(
            kms.decrypt(
                    DecryptRequest.newBuilder()
                        .setCiphertextBlob(dataKey.getCiphertextBlob())
                        .build())
                .getPlaintext())
        .isEqualTo(dataKey.getPlaintext());
  }

  private static void assertRsaSignature(KeyManagementServiceBlockingStub kms) {
    String keyId =
        kms.createKey(
                CreateKeyRequest.newBuilder()
                    .setKeySpec(KeySpec.RSA_2048)
                    .setKeyUsage(KeyUsage.SIGN_VERIFY)
                    .build())
            .getKeyMetadata()
            .getKeyId();
    ByteString message = ByteString.copyFromUtf8("signed on NSS");
    ByteString signature =
        kms.sign(
                SignRequest.newBuilder()
                    .setKeyId(keyId)
                    .setMessage(message)
                    .setMessageType(MessageType.RAW)
                    .setSigningAlgorithm(SigningAlgorithmSpec.RSASSA_PKCS1_V1_5_SHA_256)
                    .build())
            .getSignature();
    assertThat(
            kms.verify(
                    VerifyRequest.newBuilder()
                        .setKeyId(keyId)
                        .setMessage(message)
                        .setMessageType(MessageType.RAW)
                        .setSignature(signature)
                        .setSigningAlgorithm(SigningAlgorithmSpec.RSASSA_PKCS1_V1_5_SHA_256)
                        .build())
                .getSignatureValid())
        .isTrue();
  }

  private static void assertHmac(KeyManagementServiceBlockingStub kms) {
    String keyId =
        kms.createKey(
                CreateKeyRequest.newBuilder()
                    .setKeySpec(KeySpec.HMAC_256)
                    .setKeyUsage(KeyUsage.GENERATE_VERIFY_MAC)
                    .build())
            .getKeyMetadata()
            .getKeyId();
    GenerateMacRequest request =
        GenerateMacRequest.newBuilder()
            .setKeyId(keyId)
            .setMessage(ByteString.copyFromUtf8("mac me"))
            .setMacAlgorithm(MacAlgorithmSpec.HMAC_SHA_256)
            .build();
    ByteString mac = kms.generateMac(request).getMac();
    assertThat(mac.size()).isEqualTo(32);
    assertThat(kms.generateMac(request).getMac()).isEqualTo(mac);
  }
}
