package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.p11kms.hsm.Hsm;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import io.p11kms.proto.v1.GenerateRandomRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.server.KmsServer;
import io.p11kms.server.Main;
import io.p11kms.server.client.KmsChannels;
import io.p11kms.server.store.KeyStores;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Clients that know two servers: the Java channel of {@link KmsChannels} and the CLI's {@code
 * --endpoint}. Two real servers on real ports (SoftHSM2 allows one token directory per process, so
 * here they share the token; two tokens and one PostgreSQL are in the multi-server IT); each counts
 * the calls it answers.
 */
class MultiEndpointClientIT {
  private static SoftHsmTestToken token;
  private static Pkcs11Hsm pkcs11;

  @TempDir Path dir;

  private Served a;
  private Served b;

  /** A server and how many KMS calls reached it. */
  private static final class Served {
    final KmsServer server;
    final AtomicInteger calls;
    final String endpoint;
    private boolean stopped;

    Served(KmsServer server, AtomicInteger calls) {
      this.server = server;
      this.calls = calls;
      this.endpoint = "127.0.0.1:" + server.port();
    }

    void stop() {
      if (!stopped) {
        stopped = true;
        server.stop();
      }
    }
  }

  @BeforeAll
  static void openToken() {
    token = SoftHsmTestToken.create();
    pkcs11 = Pkcs11Hsm.open(token.hsmConfig());
  }

  @AfterAll
  static void closeToken() {
    pkcs11.close();
    token.close();
  }

  @BeforeEach
  void startServers() {
    a = serve("a");
    b = serve("b");
  }

  @AfterEach
  void stopServers() {
    a.stop();
    b.stop();
  }

  private Served serve(String name) {
    return serve(name, NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)));
  }

  private Served serve(String name, NettyServerBuilder builder) {
    AtomicInteger calls = new AtomicInteger();
    ServerInterceptor counter =
        new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            calls.incrementAndGet();
            return next.startCall(call, headers);
          }
        };
    var store = KeyStores.open("jdbc:sqlite:" + dir.resolve(name + ".db"));
    KmsServer server =
        new KmsServer(
                builder.intercept(counter),
                unclosable(pkcs11),
                store,
                KmsTestServer.ARNS,
                Clock.systemUTC(),
                io.p11kms.server.config.TokenConfig.DEFAULT_HEALTH_INTERVAL,
                KmsTestServer.allowingAll(pkcs11, store, Clock.systemUTC()))
            .start();
    return new Served(server, calls);
  }

  /** The shared token, for a server whose stop must not close it. */
  private static Hsm unclosable(Hsm hsm) {
    return (Hsm)
        Proxy.newProxyInstance(
            Hsm.class.getClassLoader(),
            new Class<?>[] {Hsm.class},
            (proxy, method, args) -> {
              if (method.getName().equals("close") && method.getParameterCount() == 0) {
                return null;
              }
              try {
                return method.invoke(hsm, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  private static GenerateRandomRequest random() {
    return GenerateRandomRequest.newBuilder().setNumberOfBytes(16).build();
  }

  @Test
  void channelWithTwoEndpoints_spreadsCalls_andKeepsWorkingWhenOneStops() throws Exception {
    ManagedChannel channel =
        KmsChannels.forEndpoints(List.of(a.endpoint, b.endpoint)).usePlaintext().build();
    try {
      KeyManagementServiceBlockingStub kms =
          KeyManagementServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
      for (int i = 0; i < 100; i++) {
        assertThat(kms.generateRandom(random()).getPlaintext().size()).isEqualTo(16);
      }
      System.out.printf(
          "multi-endpoint: 100 calls, %d on A, %d on B%n", a.calls.get(), b.calls.get());
      assertThat(a.calls.get() + b.calls.get()).isEqualTo(100);
      assertThat(a.calls.get()).isBetween(30, 70);

      a.stop();
      int onB = b.calls.get();
      for (int i = 0; i < 50; i++) {
        assertThat(kms.generateRandom(random()).getPlaintext().size()).isEqualTo(16);
      }
      assertThat(b.calls.get() - onB).isEqualTo(50);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void tls_verifiesEachServerAsItsOwnEndpoint() throws Exception {
    TestPki pki = TestPki.create(dir, "multi");
    TestPki.Issued cert = pki.server();
    // The certificate names localhost and 127.0.0.1; the second server is reached as 127.0.0.2.
    Served named = serve("named", tlsOn("127.0.0.1", cert));
    Served unnamed = serve("unnamed", tlsOn("127.0.0.2", cert));
    try {
      List<String> endpoints =
          List.of("localhost:" + named.server.port(), "127.0.0.2:" + unnamed.server.port());
      callTwentyTimes(
          KmsChannels.forEndpoints(endpoints)
              .sslContext(GrpcSslContexts.forClient().trustManager(pki.caFile().toFile()).build()));
      // Verified as "127.0.0.2", the second server's certificate does not match: no call there.
      assertThat(named.calls.get()).isEqualTo(20);
      assertThat(unnamed.calls.get()).isZero();

      // One name for all (--authority): both servers are verified as localhost and both serve.
      callTwentyTimes(
          KmsChannels.forEndpoints(endpoints)
              .overrideAuthority("localhost")
              .sslContext(GrpcSslContexts.forClient().trustManager(pki.caFile().toFile()).build()));
      assertThat(named.calls.get() - 20).isPositive();
      assertThat(unnamed.calls.get()).isPositive();
    } finally {
      named.stop();
      unnamed.stop();
    }
  }

  private static NettyServerBuilder tlsOn(String host, TestPki.Issued cert) throws Exception {
    return NettyServerBuilder.forAddress(new InetSocketAddress(host, 0))
        .sslContext(GrpcSslContexts.forServer(cert.cert().toFile(), cert.key().toFile()).build());
  }

  private static void callTwentyTimes(NettyChannelBuilder builder) throws Exception {
    ManagedChannel channel = builder.build();
    try {
      KeyManagementServiceBlockingStub kms =
          KeyManagementServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
      for (int i = 0; i < 20; i++) {
        assertThat(kms.generateRandom(random()).getPlaintext().size()).isEqualTo(16);
      }
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void cli_takesSeveralEndpoints_andCallsTheLiveOne() {
    String stopped = a.endpoint;
    a.stop();

    // Comma-separated, the stopped server first: a call that picks it is retried on B.
    for (int i = 0; i < 3; i++) {
      assertThat(cli("--endpoint", stopped + "," + b.endpoint)).isZero();
    }
    // The option repeated, in the other order.
    for (int i = 0; i < 3; i++) {
      assertThat(cli("--endpoint", b.endpoint, "--endpoint", stopped)).isZero();
    }
    assertThat(b.calls.get()).isEqualTo(6);
    assertThat(cli("--endpoint", b.endpoint + ",,")).as("an empty endpoint").isEqualTo(1);
    assertThat(cli("--endpoint", b.endpoint + ",kms")).as("no port").isEqualTo(1);
    assertThat(b.calls.get()).isEqualTo(6);
  }

  private static int cli(String... endpointOptions) {
    List<String> args =
        new ArrayList<>(
            List.of("kms", "generate-random", "--number-of-bytes", "8", "--timeout", "10"));
    args.addAll(List.of(endpointOptions));
    PrintStream saved = System.out;
    System.setOut(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    try {
      return new CommandLine(new Main()).execute(args.toArray(String[]::new));
    } finally {
      System.setOut(saved);
    }
  }
}
