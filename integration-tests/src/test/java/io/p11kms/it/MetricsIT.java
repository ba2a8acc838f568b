package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import io.p11kms.hsm.testing.TempDirs;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DescribeKeyRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.RotateKeyOnDemandRequest;
import io.p11kms.server.KmsServer;
import io.p11kms.server.config.MetricsConfig;
import io.p11kms.server.metrics.Metrics;
import io.p11kms.server.metrics.MetricsEndpoint;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The Prometheus endpoint and the request id, against a real server on a real socket. */
class MetricsIT {
  private static final Metadata.Key<String> REQUEST_ID =
      Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER);

  @Test
  void metricsEndpoint_countsRequestsByOperationStatusAndError_andTimesTokenCalls()
      throws Exception {
    Path dbDir = Files.createTempDirectory("p11kms-metrics");
    try (SoftHsmTestToken token = SoftHsmTestToken.create()) {
      Metrics metrics = new Metrics();
      NettyServerBuilder builder =
          NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0));
      builder.intercept(metrics.interceptor());
      var hsm = metrics.instrument(Pkcs11Hsm.open(token.hsmConfig()));
      var store = io.p11kms.server.store.KeyStores.open("jdbc:sqlite:" + dbDir.resolve("kms.db"));
      KmsServer server =
          new KmsServer(
                  builder,
                  hsm,
                  store,
                  KmsTestServer.ARNS,
                  Clock.systemUTC(),
                  Duration.ofSeconds(1),
                  KmsTestServer.allowingAll(hsm, store, Clock.systemUTC()))
              .start();
      server.countRotationsIn(metrics);
      MetricsEndpoint endpoint =
          MetricsEndpoint.start(new MetricsConfig("127.0.0.1", 0), metrics.registry());
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
      try {
        AtomicReference<Metadata> headers = new AtomicReference<>();
        AtomicReference<Metadata> trailers = new AtomicReference<>();
        KeyManagementServiceBlockingStub kms =
            KeyManagementServiceGrpc.newBlockingStub(
                    ClientInterceptors.intercept(
                        channel, MetadataUtils.newCaptureMetadataInterceptor(headers, trailers)))
                .withDeadlineAfter(30, TimeUnit.SECONDS);
        String keyId =
            kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
        assertThat(
                headers
                    .get()
                    .get(Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER)))
            .matches("[0-9a-f]{16}");
        kms.encrypt(
            EncryptRequest.newBuilder()
                .setKeyId(keyId)
                .setPlaintext(ByteString.copyFromUtf8("secret-plaintext-value"))
                .build());
        // The id goes once in each answer: in the headers of an answer that has them ...
        assertThat(headers.get().getAll(REQUEST_ID)).hasSize(1);
        assertThat(trailers.get().containsKey(REQUEST_ID)).isFalse();
        kms.rotateKeyOnDemand(RotateKeyOnDemandRequest.newBuilder().setKeyId(keyId).build());
        headers.set(null);
        Rpc.assertFails(
            () ->
                kms.describeKey(
                    DescribeKeyRequest.newBuilder()
                        .setKeyId("11111111-2222-3333-4444-555555555555")
                        .build()),
            Status.Code.NOT_FOUND,
            "NotFoundException");
        // ... and in the trailers of one that has none (a call that failed before answering).
        assertThat(headers.get()).isNull();
        assertThat(trailers.get().getAll(REQUEST_ID)).hasSize(1);
        assertThat(trailers.get().get(REQUEST_ID)).matches("[0-9a-f]{16}");

        HttpResponse<String> response =
            HttpClient.newHttpClient()
                .send(
                    HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + endpoint.port() + "/metrics"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        String text = response.body();
        assertThat(text)
            .containsPattern(
                "p11kms_requests_seconds_count\\{[^}]*operation=\"Encrypt\"[^}]*status=\"OK\"[^}]*\\} 1")
            .containsPattern(
                "p11kms_requests_seconds_count\\{error=\"NotFoundException\"[^}]*"
                    + "operation=\"DescribeKey\"[^}]*status=\"NOT_FOUND\"[^}]*\\} 1")
            .containsPattern("p11kms_requests_seconds_bucket\\{[^}]*operation=\"Encrypt\"")
            .containsPattern(
                "p11kms_token_calls_seconds_count\\{operation=\"encrypt\",outcome=\"ok\"\\} 1")
            .containsPattern("p11kms_token_calls_seconds_count\\{operation=\"generateBackingKey\"")
            .contains("p11kms_hsm_cache_backing_keys")
            .contains("p11kms_hsm_sessions_in_use")
            .contains("p11kms_hsm_sessions_waiting")
            .containsPattern("p11kms_hsm_cache_misses_total(\\{[^}]*\\})? 1")
            .containsPattern("p11kms_key_rotations_total(\\{[^}]*\\})? 1")
            .contains("p11kms_domain_key_rewraps_total")
            .doesNotContain("secret-plaintext-value")
            .doesNotContain(keyId);
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        endpoint.close();
        server.stop();
      }
    } finally {
      TempDirs.deleteTree(dbDir);
    }
  }
}
