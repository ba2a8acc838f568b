package io.p11kms.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.SettableFuture;
import io.grpc.ManagedChannel;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.proto.v1.PutKeyPolicyRequest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
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

  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();
  private final URI encryptUri;
  private final AwsCredentialsIdentity credential;
  private final byte[] body;

  private XksCalls(int port, AwsCredentialsIdentity credential, int plaintextBytes) {
    this.encryptUri =
        URI.create("http://127.0.0.1:" + port + "/kms/xks/v1/keys/" + EXTERNAL_KEY + "/encrypt");
    this.credential = credential;
    byte[] plaintext = new byte[plaintextBytes];
    ThreadLocalRandom.current().nextBytes(plaintext);
    this.body =
        ("{\"requestMetadata\":{\"awsPrincipalArn\":\"arn:aws:iam::123456789012:user/bench\","
                + "\"kmsKeyArn\":\"arn:aws:kms:us-east-1:123456789012:key/bench\","
                + "\"kmsOperation\":\"GenerateDataKey\",\"kmsRequestId\":\""
                + UUID.randomUUID()
                + "\"},\"plaintext\":\""
                + Base64.getEncoder().encodeToString(plaintext)
                + "\",\"encryptionAlgorithm\":\"AES_GCM\"}")
            .getBytes(StandardCharsets.UTF_8);
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
    return () -> {
      SettableFuture<Object> done = SettableFuture.create();
      http.sendAsync(signed(), HttpResponse.BodyHandlers.ofString())
          .whenComplete(
              (response, failure) -> {
                if (failure != null) {
                  done.setException(failure);
                } else if (response.statusCode() != 200) {
                  done.setException(
                      new IllegalStateException(
                          "XKS Encrypt: HTTP " + response.statusCode() + " " + response.body()));
                } else {
                  done.set(response);
                }
              });
      return done;
    };
  }

  private HttpRequest signed() {
    SdkHttpRequest request =
        AwsV4HttpSigner.create()
            .sign(
                r ->
                    r.identity(credential)
                        .request(
                            SdkHttpRequest.builder()
                                .method(SdkHttpMethod.POST)
                                .uri(encryptUri)
                                .putHeader("Content-Type", "application/json")
                                .build())
                        .payload(ContentStreamProvider.fromByteArray(body))
                        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "kms-xks-proxy")
                        .putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1"))
            .request();
    HttpRequest.Builder b =
        HttpRequest.newBuilder(encryptUri)
            .timeout(Duration.ofSeconds(30))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    request
        .headers()
        .forEach(
            (name, values) -> {
              if (!name.equalsIgnoreCase("Host")) {
                values.forEach(v -> b.header(name, v));
              }
            });
    return b.build();
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
