package io.p11kms.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.p11kms.server.config.SecurityConfig;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The gRPC listener's threads, on a real port: each call's interceptors, listener callbacks and
 * handler run on a handler thread, never on the event loop; the handler sees the call's deadline
 * and its cancellation; a handler that throws ends its call.
 */
class GrpcListenerTest {
  private static final MethodDescriptor.Marshaller<String> TEXT =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
          return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
          try {
            return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  private static final MethodDescriptor<String, String> ECHO =
      MethodDescriptor.<String, String>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName("test.Listener/Echo")
          .setRequestMarshaller(TEXT)
          .setResponseMarshaller(TEXT)
          .build();

  /** Where each step of a call ran, by step. */
  private final Map<String, String> threads = new ConcurrentHashMap<>();

  private final CountDownLatch cancelled = new CountDownLatch(1);
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws IOException {
    ServerInterceptor measure =
        new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            threads.put("interceptor", Thread.currentThread().getName());
            return new SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
              @Override
              public void onMessage(Q message) {
                threads.put("onMessage", Thread.currentThread().getName());
                super.onMessage(message);
              }

              @Override
              public void onHalfClose() {
                threads.put("onHalfClose", Thread.currentThread().getName());
                super.onHalfClose();
              }
            };
          }
        };
    ServerServiceDefinition service =
        ServerServiceDefinition.builder("test.Listener")
            .addMethod(ECHO, ServerCalls.asyncUnaryCall(this::echo))
            .build();
    SecurityConfig plaintext =
        new SecurityConfig(
            null,
            null,
            null,
            List.of(),
            Path.of("audit.log"),
            1000,
            Duration.ofMinutes(1),
            "audit",
            true,
            null,
            null);
    server =
        GrpcListener.builder("127.0.0.1", 0, plaintext, 2, measure)
            .addService(service)
            .build()
            .start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
  }

  private void echo(String request, io.grpc.stub.StreamObserver<String> response) {
    threads.put("handler", Thread.currentThread().getName());
    switch (request) {
      case "throw" -> throw new IllegalStateException("secret detail");
      case "wait" -> {
        Context.current().addListener(c -> cancelled.countDown(), Runnable::run);
        threads.put(
            "deadline",
            String.valueOf(Context.current().getDeadline().timeRemaining(TimeUnit.MILLISECONDS)));
        try {
          cancelled.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        response.onError(Status.CANCELLED.asRuntimeException());
      }
      default -> {
        response.onNext("echo " + request);
        response.onCompleted();
      }
    }
  }

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void everyStepOfACall_runsOnAHandlerThread() {
    assertThat(ClientCalls.blockingUnaryCall(channel, ECHO, CallOptions.DEFAULT, "hello"))
        .isEqualTo("echo hello");
    assertThat(threads.keySet())
        .containsExactlyInAnyOrder("interceptor", "onMessage", "onHalfClose", "handler");
    assertThat(threads.values()).allSatisfy(t -> assertThat(t).startsWith("p11kms-handler-"));
  }

  @Test
  void manyCalls_eachAnswered() {
    for (int i = 0; i < 200; i++) {
      assertThat(ClientCalls.blockingUnaryCall(channel, ECHO, CallOptions.DEFAULT, "n" + i))
          .isEqualTo("echo n" + i);
    }
  }

  @Test
  void aUnaryCallWithTwoMessages_isRefused() throws InterruptedException {
    // Sent as a client stream: a unary client sends one message only.
    ClientCall<String, String> call =
        channel.newCall(
            ECHO.toBuilder().setType(MethodDescriptor.MethodType.CLIENT_STREAMING).build(),
            CallOptions.DEFAULT);
    CountDownLatch closed = new CountDownLatch(1);
    Status[] status = new Status[1];
    call.start(
        new ClientCall.Listener<>() {
          @Override
          public void onClose(Status s, Metadata trailers) {
            status[0] = s;
            closed.countDown();
          }
        },
        new Metadata());
    call.request(2);
    call.sendMessage("one");
    call.sendMessage("two");
    call.halfClose();
    assertThat(closed.await(5, TimeUnit.SECONDS)).isTrue();
    // Refused by gRPC's unary handler (INTERNAL, or a reset of the stream the client still sends
    // on), which saw the second message: the method never ran.
    assertThat(status[0].getCode())
        .as(String.valueOf(status[0]))
        .isIn(Status.Code.INTERNAL, Status.Code.CANCELLED);
    assertThat(threads).doesNotContainKey("handler");
  }

  @Test
  void theHandler_seesTheCallsDeadline_andItsCancellation() throws InterruptedException {
    assertThatThrownBy(
            () ->
                ClientCalls.blockingUnaryCall(
                    channel,
                    ECHO,
                    CallOptions.DEFAULT.withDeadlineAfter(300, TimeUnit.MILLISECONDS),
                    "wait"))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
    assertThat(cancelled.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(Long.parseLong(threads.get("deadline"))).isBetween(1L, 300L);
  }

  @Test
  void aHandlerThatThrows_endsItsCall_withoutItsMessage() {
    assertThatThrownBy(
            () -> ClientCalls.blockingUnaryCall(channel, ECHO, CallOptions.DEFAULT, "throw"))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNKNOWN);
              assertThat(String.valueOf(e.getStatus().getDescription()))
                  .doesNotContain("secret detail");
            });
    assertThat(ClientCalls.blockingUnaryCall(channel, ECHO, CallOptions.DEFAULT, "after"))
        .isEqualTo("echo after");
  }
}
