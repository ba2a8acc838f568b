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

  private final Supplier<ListenableFuture<?>> encrypt;

  private XksCalls(
      int port, String externalKeyId, AwsCredentialsIdentity credential, int plaintextBytes) {
    URI encryptUri =
        URI.create("http://127.0.0.1:" + port + "/kms/xks/v1/keys/" + externalKeyId + "/encrypt");
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

  /** The XKS principal of a run and its access key. */
  record Access(String principal, AwsCredentialsIdentity credential) {}

  /**
   * Makes an XKS access key for a principal of this run's own (a principal has at most two, and a
   * data folder kept between runs holds those of the runs before) and adds {@code xks.port} to
   * {@code config}.
   */
  static Access prepare(Path config, String classpath, int port)
      throws IOException, InterruptedException {
    String principal = "bench:xks-" + UUID.randomUUID();
    JsonNode created =
        JSON.readTree(
            p11kms(
                classpath,
                "access-key",
                "create",
                "--config",
                config.toString(),
                "--principal",
                principal,
                "--xks"));
    List<String> lines = new ArrayList<>(Files.readAllLines(config));
    lines.removeIf(l -> l.startsWith("xks.port="));
    lines.add("xks.port=" + port);
    Files.write(config, lines);
    return new Access(
        principal,
        AwsCredentialsIdentity.create(
            created.path("AccessKeyId").asText(), created.path("SecretAccessKey").asText()));
  }

  /** Makes a key the XKS principal may use, exposes it, and returns the calls on it. */
  static XksCalls on(
      ManagedChannel channel,
      Path config,
      String classpath,
      int port,
      Access access,
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
                    + access.principal()
                    + "\"]},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}")
            .build());
    // An external key id of its own: a data folder kept between runs (P11KMS_BENCH_DATA) still
    // exposes the key of the run before under its id.
    String externalKeyId = "bench-" + keyId;
    p11kms(
        classpath,
        "xks",
        "expose",
        "--config",
        config.toString(),
        "--key-id",
        keyId,
        "--external-key-id",
        externalKeyId);
    return new XksCalls(port, externalKeyId, access.credential(), plaintextBytes);
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
