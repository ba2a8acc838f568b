package io.p11kms.server.sigv4;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * Signs requests with the AWS SDK for Java v2's own SigV4 signer (what the SDK's KMS client uses),
 * and turns the signed request into the verifier's {@link SignedRequest} as a front end would.
 */
final class SdkSigner {
  private final String accessKeyId;
  private final String secret;
  private final String region;
  private final String service;

  SdkSigner(String accessKeyId, String secret, String region, String service) {
    this.accessKeyId = accessKeyId;
    this.secret = secret;
    this.region = region;
    this.service = service;
  }

  /** A JSON API call: POST / with X-Amz-Target and the JSON 1.1 content type. */
  Signed kmsCall(String url, String target, String json, Instant at) {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Content-Type", "application/x-amz-json-1.1");
    headers.put("X-Amz-Target", "TrentService." + target);
    return sign("POST", url, headers, json.getBytes(StandardCharsets.UTF_8), at);
  }

  Signed sign(String method, String url, Map<String, String> headers, byte[] body, Instant at) {
    SdkHttpRequest.Builder request =
        SdkHttpRequest.builder().method(SdkHttpMethod.fromValue(method)).uri(URI.create(url));
    headers.forEach(request::putHeader);
    SdkHttpRequest signed =
        AwsV4HttpSigner.create()
            .sign(
                r ->
                    r.identity(AwsCredentialsIdentity.create(accessKeyId, secret))
                        .request(request.build())
                        .payload(ContentStreamProvider.fromByteArray(body))
                        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, service)
                        .putProperty(AwsV4HttpSigner.REGION_NAME, region)
                        .putProperty(
                            AwsV4HttpSigner.SIGNING_CLOCK, Clock.fixed(at, ZoneOffset.UTC)))
            .request();
    return new Signed(signed, body);
  }

  /** A signed request, as the SDK would send it. */
  record Signed(SdkHttpRequest http, byte[] body) {
    /** The request as the server receives it, with the host header as sent on the wire. */
    SignedRequest received() {
      return received(body);
    }

    SignedRequest received(byte[] bodyOnTheWire) {
      SignedRequest.Builder b =
          SignedRequest.builder(http.method().name(), http.getUri().getRawPath())
              .rawQuery(http.getUri().getRawQuery());
      http.headers().forEach((name, values) -> values.forEach(v -> b.header(name, v)));
      if (http.firstMatchingHeader("Host").isEmpty()) {
        URI uri = http.getUri();
        b.header("Host", uri.getPort() < 0 ? uri.getHost() : uri.getHost() + ":" + uri.getPort());
      }
      return b.body(bodyOnTheWire).build();
    }

    String authorization() {
      return http.firstMatchingHeader("Authorization").orElseThrow();
    }
  }
}
