package io.p11kms.bench;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.SettableFuture;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * One kind of call over HTTP/1.1 as an AWS client makes it: a POST of a fixed body with fixed
 * headers, signed afresh for each call with SigV4 by the AWS SDK's signer (one signer for all
 * calls, as an SDK client keeps one), on keep-alive connections the JDK's client pools.
 */
final class SignedHttp {
  private static final Duration CALL_DEADLINE = Duration.ofSeconds(30);

  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();
  private final AwsV4HttpSigner signer = AwsV4HttpSigner.create();
  private final AwsCredentialsIdentity credential;
  private final String service;
  private final String region;

  /**
   * @param service the SigV4 service name ({@code kms}, {@code kms-xks-proxy})
   * @param region the region of the credential scope
   */
  SignedHttp(AwsCredentialsIdentity credential, String service, String region) {
    this.credential = credential;
    this.service = service;
    this.region = region;
  }

  /**
   * POST {@code body} with {@code headers} to {@code uri}, signed for each call; a call fails
   * unless the answer is HTTP 200. {@code name} names the call in a failure.
   */
  Supplier<ListenableFuture<?>> post(
      String name, URI uri, Map<String, String> headers, byte[] body) {
    return () -> {
      SettableFuture<Object> done = SettableFuture.create();
      http.sendAsync(signed(uri, headers, body), HttpResponse.BodyHandlers.ofString())
          .whenComplete(
              (response, failure) -> {
                if (failure != null) {
                  done.setException(failure);
                } else if (response.statusCode() != 200) {
                  done.setException(
                      new IllegalStateException(
                          name + ": HTTP " + response.statusCode() + " " + response.body()));
                } else {
                  done.set(response);
                }
              });
      return done;
    };
  }

  private HttpRequest signed(URI uri, Map<String, String> headers, byte[] body) {
    SdkHttpRequest.Builder unsigned = SdkHttpRequest.builder().method(SdkHttpMethod.POST).uri(uri);
    headers.forEach(unsigned::putHeader);
    SdkHttpRequest request =
        signer
            .sign(
                r ->
                    r.identity(credential)
                        .request(unsigned.build())
                        .payload(ContentStreamProvider.fromByteArray(body))
                        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, service)
                        .putProperty(AwsV4HttpSigner.REGION_NAME, region))
            .request();
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri)
            .timeout(CALL_DEADLINE)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    request
        .headers()
        .forEach(
            (name, values) -> {
              // The JDK's client sets Host itself (from the URI, as signed).
              if (!name.equalsIgnoreCase("Host")) {
                values.forEach(v -> b.header(name, v));
              }
            });
    return b.build();
  }
}
