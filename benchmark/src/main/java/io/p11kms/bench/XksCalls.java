package io.p11kms.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.ManagedChannel;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.proto.v1.PutKeyPolicyRequest;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * XKS proxy API Encrypt calls as AWS KMS makes them: JSON over HTTP/1.1, each signed with SigV4
 * (service {@code kms-xks-proxy}) by the AWS SDK's signer, under a key exposed for the run with
 * {@code p11kms xks expose} and an XKS access key made with {@code p11kms access-key create --xks}.
 */
final class XksCalls {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PRINCIPAL = "bench:xks";
  private static final String EXTERNAL_KEY = "bench-key";

  private final Supplier<ListenableFuture<?>> encrypt;

  private XksCalls(int port, AwsCredentialsIdentity credential, int plaintextBytes) {
    URI encryptUri =
        URI.create("http://127.0.0.1:" + port + "/kms/xks/v1/keys/" + EXTERNAL_KEY + "/encrypt");
    byte[] plaintext = new byte[plaintextBytes];
    ThreadLocalRandom.current().nextBytes(plaintext);
    byte[] body =
        ("{\"requestMetadata\":{\"awsPrincipalArn\":\"arn:aws:iam::123456789012:user/bench\","
                + "\"kmsKeyArn\":\"arn:aws:kms:us-east-1:123456789012:key/bench\","
                + "\"kmsOperation\":\"GenerateDataKey\",\"kmsRequestId\":\""
                + UUID.randomUUID()
                + "\"},\"plaintext\":\""
                + Base64.getEncoder().encodeToString(plaintext)
                + "\",\"encryptionAlgorithm\":\"AES_GCM\"}")
            .getBytes(StandardCharsets.UTF_8);
    this.encrypt =
        new SignedHttp("127.0.0.1", port, credential, "kms-xks-proxy", "us-east-1")
            .post("XKS Encrypt", encryptUri, Map.of("Content-Type", "application/json"), body);
  }

  /** Makes an XKS access key and adds {@code xks.port} to {@code config}; returns the key. */
  static AwsCredentialsIdentity prepare(Path config, String classpath, int port)
      throws IOException, InterruptedException {
    JsonNode created =
        JSON.readTree(
            p11kms(
                classpath,
                "access-key",
                "create",
                "--config",
                config.toString(),
                "--principal",
                PRINCIPAL,
                "--xks"));
    List<String> lines = new ArrayList<>(Files.readAllLines(config));
    lines.removeIf(l -> l.startsWith("xks.port="));
    lines.add("xks.port=" + port);
    Files.write(config, lines);
    return AwsCredentialsIdentity.create(
        created.path("AccessKeyId").asText(), created.path("SecretAccessKey").asText());
  }

  /** Makes a key the XKS principal may use, exposes it, and returns the calls on it. */
  static XksCalls on(
      ManagedChannel channel,
      Path config,
      String classpath,
      int port,
      AwsCredentialsIdentity credential,
      int plaintextBytes)
      throws IOException, InterruptedException {
    var kms =
        KeyManagementServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    String keyId = kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
    kms.putKeyPolicy(
        PutKeyPolicyRequest.newBuilder()
            .setKeyId(keyId)
            .setPolicy(
                "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
                    + "[\"local:developer\",\""
                    + PRINCIPAL
                    + "\"]},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}")
            .build());
    p11kms(
        classpath,
        "xks",
        "expose",
        "--config",
        config.toString(),
        "--key-id",
        keyId,
        "--external-key-id",
        EXTERNAL_KEY);
    return new XksCalls(port, credential, plaintextBytes);
  }

  /** Encrypt, signed afresh for each call. */
  Supplier<ListenableFuture<?>> encrypt() {
    return encrypt;
  }

  /** {@code p11kms <args>} in a child JVM; its standard output. */
  private static String p11kms(String classpath, String... args)
      throws IOException, InterruptedException {
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                classpath,
                "io.p11kms.server.Main"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("p11kms " + args[0] + " " + args[1] + " failed");
    }
    return out.strip();
  }
}
