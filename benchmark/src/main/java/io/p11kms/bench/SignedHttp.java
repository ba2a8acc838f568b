package io.p11kms.bench;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.SettableFuture;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * One kind of call over HTTP/1.1 as an AWS client makes it: a POST of a fixed body with fixed
 * headers, signed with SigV4 by the AWS SDK's signer as of the second it is sent, on keep-alive
 * connections the JDK's client pools.
 *
 * <p>A signature covers the method, the path, the signed headers, the body and the date to the
 * second, so every call of a second is byte for byte the request the SDK would sign for it: the
 * signature is computed once per second and reused for the calls of that second. The server
 * verifies every call in full (it keeps no signatures); the client, which shares the server's
 * cores, spends its CPU on the calls instead of on signing the same bytes again (signing took about
 * 40% of this client's samples).
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

  /** The headers signed for one second (epoch seconds), for one URI, headers and body. */
  private record Signed(long second, Map<String, List<String>> headers) {}

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
    AtomicReference<Signed> current = new AtomicReference<>(new Signed(-1, Map.of()));
    return () -> {
      long second = Instant.now().getEpochSecond();
      Signed signed = current.get();
      if (signed.second() != second) {
        signed = new Signed(second, sign(uri, headers, body, second));
        current.set(signed);
      }
      SettableFuture<Object> done = SettableFuture.create();
      http.sendAsync(request(uri, body, signed.headers()), HttpResponse.BodyHandlers.ofString())
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

  /** The headers of the request signed as of {@code second}, the Host header left out. */
  private Map<String, List<String>> sign(
      URI uri, Map<String, String> headers, byte[] body, long second) {
    SdkHttpRequest.Builder unsigned = SdkHttpRequest.builder().method(SdkHttpMethod.POST).uri(uri);
    headers.forEach(unsigned::putHeader);
    Clock at = Clock.fixed(Instant.ofEpochSecond(second), ZoneOffset.UTC);
    SdkHttpRequest request =
        signer
            .sign(
                r ->
                    r.identity(credential)
                        .request(unsigned.build())
                        .payload(ContentStreamProvider.fromByteArray(body))
                        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, service)
                        .putProperty(AwsV4HttpSigner.REGION_NAME, region)
                        .putProperty(AwsV4HttpSigner.SIGNING_CLOCK, at))
            .request();
    Map<String, List<String>> signed = new LinkedHashMap<>(request.headers());
    // The JDK's client sets Host itself (from the URI, as signed).
    signed.keySet().removeIf(name -> name.equalsIgnoreCase("Host"));
    return Map.copyOf(signed);
  }

  private static HttpRequest request(URI uri, byte[] body, Map<String, List<String>> headers) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri)
            .timeout(CALL_DEADLINE)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    headers.forEach((name, values) -> values.forEach(v -> b.header(name, v)));
    return b.build();
  }
}
