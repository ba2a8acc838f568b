package io.p11kms.bench;

import com.google.common.util.concurrent.ListenableFuture;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * Encrypt over the AWS KMS JSON API as an AWS SDK calls it: {@code POST /} with {@code
 * X-Amz-Target: TrentService.Encrypt}, JSON 1.1, each call signed with SigV4 (service {@code kms})
 * by the AWS SDK's signer. The caller is the one the gRPC points call as, {@code local:developer}:
 * its access key is the one development mode writes to {@code aws-credentials} beside the
 * configuration.
 */
final class AwsJsonCalls {
  private static final Pattern ID = Pattern.compile("aws_access_key_id\\s*=\\s*(\\S+)");
  private static final Pattern SECRET = Pattern.compile("aws_secret_access_key\\s*=\\s*(\\S+)");

  private final SignedHttp http;
  private final URI endpoint;

  private AwsJsonCalls(SignedHttp http, URI endpoint) {
    this.http = http;
    this.endpoint = endpoint;
  }

  /**
   * The calls to the JSON API on {@code port}, in {@code region} (the server's {@code arn.region}),
   * with the access key in {@code credentialsFile}.
   */
  static AwsJsonCalls on(int port, String region, Path credentialsFile) throws IOException {
    String text = Files.readString(credentialsFile, StandardCharsets.UTF_8);
    AwsCredentialsIdentity credential =
        AwsCredentialsIdentity.create(find(ID, text), find(SECRET, text));
    return new AwsJsonCalls(
        new SignedHttp("127.0.0.1", port, credential, "kms", region),
        URI.create("http://127.0.0.1:" + port + "/"));
  }

  private static String find(Pattern pattern, String text) {
    Matcher m = pattern.matcher(text);
    if (!m.find()) {
      throw new IllegalStateException("no access key in the development credentials file");
    }
    return m.group(1);
  }

  /** Encrypt of {@code plaintextBytes} random bytes under {@code keyId}, signed for each call. */
  Supplier<ListenableFuture<?>> encrypt(String keyId, int plaintextBytes) {
    byte[] plaintext = new byte[plaintextBytes];
    ThreadLocalRandom.current().nextBytes(plaintext);
    byte[] body =
        ("{\"KeyId\":\""
                + keyId
                + "\",\"Plaintext\":\""
                + Base64.getEncoder().encodeToString(plaintext)
                + "\"}")
            .getBytes(StandardCharsets.UTF_8);
    return http.post(
        "JSON Encrypt",
        endpoint,
        Map.of(
            "Content-Type", "application/x-amz-json-1.1", "X-Amz-Target", "TrentService.Encrypt"),
        body);
  }
}
