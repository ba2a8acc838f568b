package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.PutKeyPolicyRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The XKS proxy API as an operator sets it up, each step a real command: the token set-up run.sh
 * makes, {@code xks.port} in the configuration, {@code p11kms access-key create --xks}, {@code
 * p11kms serve}, a key made over gRPC with a policy for the XKS principal, {@code p11kms xks
 * expose}; then AWS KMS's calls, signed with the printed credentials.
 */
class XksServeIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern XKS_LINE =
      Pattern.compile("p11kms XKS proxy API on http://([^:]+):(\\d+)(/\\S*)");
  private static final String XKS_PRINCIPAL = "arn:aws:iam::111122223333:role/xks-proxy";

  @TempDir Path temp;

  @Test
  void operatorSetUp_servesAwsKmsCalls() throws Exception {
    Path data = temp.resolve("data");
    ServerProcess.initToken(data);
    Path config = data.resolve("p11kms.properties");
    Files.writeString(
        config,
        Files.readString(config) + "xks.port=0\nxks.path.prefix=/ks-1\n",
        StandardCharsets.UTF_8);
    Run created =
        p11kms(
            data,
            "access-key",
            "create",
            "--config",
            config.toString(),
            "--principal",
            XKS_PRINCIPAL,
            "--xks");
    assertThat(created.exit()).as("access-key create").isZero();
    JsonNode credential = JSON.readTree(created.out().strip());
    String accessKeyId = credential.path("AccessKeyId").asText();
    String secret = credential.path("SecretAccessKey").asText();
    assertThat(accessKeyId).matches("[A-Z2-7]{20,30}");
    assertThat(secret).matches("[A-Za-z0-9/+=]{43,64}");

    try (ServerProcess server = ServerProcess.start(data)) {
      Matcher xks =
          server.startLines().stream()
              .map(XKS_LINE::matcher)
              .filter(Matcher::find)
              .findFirst()
              .orElseThrow(() -> new AssertionError("no XKS line in " + server.startLines()));
      String base = xks.group(3);
      assertThat(base).isEqualTo("/ks-1/kms/xks/v1");
      String keyId = newKeyForXks(server.port());
      Run exposed =
          p11kms(
              data,
              "xks",
              "expose",
              "--config",
              config.toString(),
              "--key-id",
              keyId,
              "--external-key-id",
              "operator-key-1");
      assertThat(exposed.exit()).as(exposed.out()).isZero();
      assertThat(JSON.readTree(exposed.out().strip()).path("keyUsage").toString())
          .isEqualTo("[\"ENCRYPT\",\"DECRYPT\"]");

      XksTestClient client =
          new XksTestClient("http://localhost:" + xks.group(2), accessKeyId, secret, "eu-west-1");
      String meta =
          "{\"requestMetadata\":{\"kmsRequestId\":\"r1\",\"kmsOperation\":\"KmsHealthCheck\"}}";
      assertThat(client.post(base + "/health", meta).status()).isEqualTo(200);
      String request =
          """
          {"requestMetadata":{"awsPrincipalArn":"arn:aws:iam::123456789012:user/Alice",
           "kmsKeyArn":"arn:aws:kms:eu-west-1:123456789012:key/k","kmsOperation":"Encrypt",
           "kmsRequestId":"r2"},
           "plaintext":"SGVsbG8gV29ybGQh","encryptionAlgorithm":"AES_GCM",
           "ciphertextDataIntegrityValueAlgorithm":"SHA_256"}
          """;
      XksTestClient.Reply encrypted = client.post(base + "/keys/operator-key-1/encrypt", request);
      assertThat(encrypted.status()).as(encrypted.body()).isEqualTo(200);
      String decrypt =
          """
          {"requestMetadata":{"awsPrincipalArn":"arn:aws:iam::123456789012:user/Alice",
           "kmsKeyArn":"arn:aws:kms:eu-west-1:123456789012:key/k","kmsOperation":"Decrypt",
           "kmsRequestId":"r3"},
           "ciphertext":"%s","ciphertextMetadata":"%s","encryptionAlgorithm":"AES_GCM",
           "initializationVector":"%s","authenticationTag":"%s"}
          """
              .formatted(
                  encrypted.json().path("ciphertext").asText(),
                  encrypted.json().path("ciphertextMetadata").asText(),
                  encrypted.json().path("initializationVector").asText(),
                  encrypted.json().path("authenticationTag").asText());
      XksTestClient.Reply decrypted = client.post(base + "/keys/operator-key-1/decrypt", decrypt);
      assertThat(decrypted.status()).as(decrypted.body()).isEqualTo(200);
      assertThat(Base64.getDecoder().decode(decrypted.json().path("plaintext").asText()))
          .isEqualTo("Hello World!".getBytes(StandardCharsets.UTF_8));

      // A JSON API credential is not an XKS one.
      Run other =
          p11kms(
              data,
              "access-key",
              "create",
              "--config",
              config.toString(),
              "--principal",
              XKS_PRINCIPAL);
      JsonNode kmsApi = JSON.readTree(other.out().strip());
      assertThat(
              client
                  .as(kmsApi.path("AccessKeyId").asText(), kmsApi.path("SecretAccessKey").asText())
                  .post(base + "/health", meta)
                  .errorName())
          .isEqualTo("AuthenticationFailedException");
    }
    String log = Files.readString(ServerProcess.log(data));
    assertThat(log).doesNotContain(secret).doesNotContain("SGVsbG8gV29ybGQh");
  }

  /** A key whose policy lets the developer (dev mode) manage it and the XKS principal use it. */
  private static String newKeyForXks(int port) throws Exception {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      KeyManagementServiceBlockingStub kms =
          KeyManagementServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
      String keyId =
          kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
      kms.putKeyPolicy(
          PutKeyPolicyRequest.newBuilder()
              .setKeyId(keyId)
              .setPolicy(
                  """
                  {"Statement":[
                    {"Effect":"Allow","Principal":{"AWS":"local:developer"},"Action":"kms:*",
                     "Resource":"*"},
                    {"Effect":"Allow","Principal":{"AWS":"%s"},
                     "Action":["kms:XksGetKeyMetadata","kms:XksEncrypt","kms:XksDecrypt"],
                     "Resource":"*"}]}
                  """
                      .formatted(XKS_PRINCIPAL))
              .build());
      return keyId;
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private record Run(int exit, String out) {}

  /** {@code p11kms <args>} in a child JVM on the set-up's token; its output is not printed. */
  private static Run p11kms(Path data, String... args) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "io.p11kms.server.Main"));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.redirectError(ProcessBuilder.Redirect.appendTo(data.resolve("cli.log").toFile()));
    builder.environment().put("SOFTHSM2_CONF", data.resolve("softhsm2.conf").toString());
    Process p = builder.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    return new Run(p.exitValue(), out);
  }
}
