package io.p11kms.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import javax.net.ssl.SSLContext;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * A test client of the XKS proxy API, as AWS KMS calls it: JSON over HTTP POST, signed with the AWS
 * SDK's own SigV4 signer for service {@code kms-xks-proxy} ({@code content-type;host;x-amz-date}
 * signed), at a time of the test's choosing.
 */
final class XksTestClient {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A response: status, raw body, the body parsed, and the Connection header if sent. */
  record Reply(int status, String body, JsonNode json, String connection) {
    String errorName() {
      return json.path("errorName").asText();
    }
  }

  private final HttpClient http;
  private final SSLContext tls;
  private final String baseUrl;
  private final String accessKeyId;
  private final String secret;
  private final String region;

  /**
   * @param baseUrl scheme, host and port, such as {@code http://127.0.0.1:1234}
   */
  XksTestClient(String baseUrl, String accessKeyId, String secret, String region) {
    this(baseUrl, accessKeyId, secret, region, null);
  }

  /**
   * Over HTTPS with {@code tls} (its trusted CAs and the client certificate it may hold).
   *
   * @param baseUrl scheme, host and port, such as {@code https://localhost:1234}
   */
  XksTestClient(String baseUrl, String accessKeyId, String secret, String region, SSLContext tls) {
    HttpClient.Builder http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10));
    if (tls != null) {
      http.sslContext(tls);
    }
    this.http = http.build();
    this.tls = tls;
    this.baseUrl = baseUrl;
    this.accessKeyId = accessKeyId;
    this.secret = secret;
    this.region = region;
  }

  /** The same endpoint with other credentials. */
  XksTestClient as(String otherAccessKeyId, String otherSecret) {
    return new XksTestClient(baseUrl, otherAccessKeyId, otherSecret, region, tls);
  }

  Reply post(String path, String json) throws Exception {
    return send("POST", path, json, Instant.now(), true);
  }

  /** Signed as of {@code at}. */
  Reply post(String path, String json, Instant at) throws Exception {
    return send("POST", path, json, at, true);
  }

  /** Not signed at all. */
  Reply postUnsigned(String path, String json) throws Exception {
    return send("POST", path, json, Instant.now(), false);
  }

  Reply send(String method, String path, String json, Instant at, boolean sign) throws Exception {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    URI uri = URI.create(baseUrl + path);
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofSeconds(30))
            .method(method, HttpRequest.BodyPublishers.ofByteArray(body))
            .header("Content-Type", "application/json");
    if (sign) {
      SdkHttpRequest signed =
          AwsV4HttpSigner.create()
              .sign(
                  r ->
                      r.identity(AwsCredentialsIdentity.create(accessKeyId, secret))
                          .request(
                              SdkHttpRequest.builder()
                                  .method(SdkHttpMethod.fromValue(method))
                                  .uri(uri)
                                  .putHeader("Content-Type", "application/json")
                                  .build())
                          .payload(ContentStreamProvider.fromByteArray(body))
                          .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "kms-xks-proxy")
                          .putProperty(AwsV4HttpSigner.REGION_NAME, region)
                          .putProperty(
                              AwsV4HttpSigner.SIGNING_CLOCK, Clock.fixed(at, ZoneOffset.UTC)))
              .request();
      signed
          .headers()
          .forEach(
              (name, values) -> {
                if (!name.equalsIgnoreCase("Host") && !name.equalsIgnoreCase("Content-Type")) {
                  values.forEach(v -> request.header(name, v));
                }
              });
    }
    HttpResponse<String> response =
        http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    String text = response.body();
    return new Reply(
        response.statusCode(),
        text,
        text.isEmpty() ? null : JSON.readTree(text),
        response.headers().firstValue("Connection").orElse(""));
  }
}
