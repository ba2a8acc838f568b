package io.p11kms.bench;

import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.ReadOnlyHttpHeaders;
import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
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
 * connections ({@link HttpConnections}, Netty's HTTP codec).
 *
 * <p>A signature covers the method, the path, the signed headers, the body and the date to the
 * second, so every call of a second is byte for byte the request the SDK would sign for it: the
 * signature is computed once per second and reused for the calls of that second. The server
 * verifies every call in full (it keeps no signatures); the client, which shares the server's
 * cores, spends its CPU on the calls instead of on signing the same bytes again.
 */
final class SignedHttp {
  private final HttpConnections connections;
  private final AwsV4HttpSigner signer = AwsV4HttpSigner.create();
  private final AwsCredentialsIdentity credential;
  private final String service;
  private final String region;

  /** The headers signed for one second (epoch seconds), for one URI, headers and body. */
  private record Signed(long second, HttpHeaders headers) {}

  /**
   * @param host the server's address
   * @param port its port
   * @param service the SigV4 service name ({@code kms}, {@code kms-xks-proxy})
   * @param region the region of the credential scope
   */
  SignedHttp(
      String host, int port, AwsCredentialsIdentity credential, String service, String region) {
    this.connections = new HttpConnections(host, port);
    this.credential = credential;
    this.service = service;
    this.region = region;
  }

  /**
   * POST {@code body} with {@code headers} to {@code uri} (on this client's host and port), signed
   * for each call; a call fails unless the answer is HTTP 200. {@code name} names the call in a
   * failure.
   */
  Supplier<ListenableFuture<?>> post(
      String name, URI uri, Map<String, String> headers, byte[] body) {
    AtomicReference<Signed> current = new AtomicReference<>(new Signed(-1, null));
    String path = uri.getRawPath();
    return () -> {
      long second = Instant.now().getEpochSecond();
      Signed signed = current.get();
      if (signed.second() != second) {
        signed = new Signed(second, sign(uri, headers, body, second));
        current.set(signed);
      }
      return Futures.transform(
          connections.post(path, signed.headers(), body),
          response -> {
            if (response.status() != 200) {
              throw new IllegalStateException(
                  name + ": HTTP " + response.status() + " " + response.body());
            }
            return response;
          },
          MoreExecutors.directExecutor());
    };
  }

  /**
   * The headers of the request signed as of {@code second}, Host among them (the host and port of
   * {@code uri}, as signed), and Content-Length.
   */
  private HttpHeaders sign(URI uri, Map<String, String> headers, byte[] body, long second) {
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
    List<CharSequence> pairs = new ArrayList<>();
    boolean host = false;
    boolean length = false;
    for (Map.Entry<String, List<String>> header : request.headers().entrySet()) {
      host |= header.getKey().equalsIgnoreCase("Host");
      length |= header.getKey().equalsIgnoreCase("Content-Length");
      for (String value : header.getValue()) {
        pairs.add(header.getKey());
        pairs.add(value);
      }
    }
    if (!host) {
      pairs.add("Host");
      pairs.add(uri.getHost() + ":" + uri.getPort());
    }
    if (!length) {
      pairs.add("Content-Length");
      pairs.add(Integer.toString(body.length));
    }
    return new ReadOnlyHttpHeaders(true, pairs.toArray(CharSequence[]::new));
  }
}
