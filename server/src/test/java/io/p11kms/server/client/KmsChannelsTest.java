package io.p11kms.server.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.p11kms.proto.v1.GenerateRandomRequest;
import io.p11kms.proto.v1.GenerateRandomResponse;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The channel's balancing and retry over real sockets, against two small servers that count their
 * calls (the full service on two tokens is in the integration tests).
 */
class KmsChannelsTest {
  private final List<Server> servers = new ArrayList<>();
  private ManagedChannel channel;

  /** Answers GenerateRandom with its own name, or fails UNAVAILABLE while {@code failing}. */
  private static final class Counting
      extends KeyManagementServiceGrpc.KeyManagementServiceImplBase {
    final AtomicInteger calls = new AtomicInteger();
    final String name;
    volatile boolean failing;

    Counting(String name) {
      this.name = name;
    }

    @Override
    public void generateRandom(
        GenerateRandomRequest request, StreamObserver<GenerateRandomResponse> response) {
      calls.incrementAndGet();
      if (failing) {
        response.onError(Status.UNAVAILABLE.withDescription("token away").asRuntimeException());
        return;
      }
      response.onNext(
          GenerateRandomResponse.newBuilder().setPlaintext(ByteString.copyFromUtf8(name)).build());
      response.onCompleted();
    }
  }

  private Server start(Counting service) throws Exception {
    Server server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(service)
            .build()
            .start();
    servers.add(server);
    return server;
  }

  private KeyManagementServiceBlockingStub client(Server... targets) {
    List<String> endpoints = new ArrayList<>();
    for (Server s : targets) {
      endpoints.add("127.0.0.1:" + s.getPort());
    }
    channel = KmsChannels.forEndpoints(endpoints).usePlaintext().build();
    return KeyManagementServiceGrpc.newBlockingStub(channel);
  }

  private static String call(KeyManagementServiceBlockingStub kms) {
    return kms.withDeadlineAfter(10, TimeUnit.SECONDS)
        .generateRandom(GenerateRandomRequest.newBuilder().setNumberOfBytes(1).build())
        .getPlaintext()
        .toStringUtf8();
  }

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    for (Server s : servers) {
      s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void twoEndpoints_spreadCallsOverBoth_thenOnlyTheLiveOneAfterAStop() throws Exception {
    Counting a = new Counting("a");
    Counting b = new Counting("b");
    Server serverA = start(a);
    Server serverB = start(b);
    KeyManagementServiceBlockingStub kms = client(serverA, serverB);

    for (int i = 0; i < 100; i++) {
      call(kms);
    }
    // Round robin alternates once both connections are up; the first few may all go to one.
    assertThat(a.calls.get() + b.calls.get()).isEqualTo(100);
    assertThat(a.calls.get()).isBetween(30, 70);

    serverA.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    int aBefore = a.calls.get();
    for (int i = 0; i < 50; i++) {
      assertThat(call(kms)).isEqualTo("b");
    }
    assertThat(a.calls.get()).isEqualTo(aBefore);
  }

  @Test
  void unavailableAnswer_isRetriedOnTheOtherServer() throws Exception {
    Counting a = new Counting("a");
    Counting b = new Counting("b");
    a.failing = true;
    KeyManagementServiceBlockingStub kms = client(start(a), start(b));

    for (int i = 0; i < 20; i++) {
      assertThat(call(kms)).isEqualTo("b");
    }
    // Some first attempts went to the failing server and were answered by the other.
    assertThat(a.calls.get()).isPositive();
    assertThat(b.calls.get()).isEqualTo(20);
  }

  @Test
  void oneEndpoint_isAnyGrpcTarget() throws Exception {
    Counting a = new Counting("a");
    Server server = start(a);
    KeyManagementServiceBlockingStub kms = client(server);

    assertThat(call(kms)).isEqualTo("a");
    assertThat(channel.authority()).isEqualTo("127.0.0.1:" + server.getPort());
  }
}
