package io.p11kms.bench;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.ReadOnlyHttpHeaders;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.p11kms.server.config.SecurityConfig;
import io.p11kms.server.http.HttpAnswer;
import io.p11kms.server.http.HttpCall;
import io.p11kms.server.http.HttpHandler;
import io.p11kms.server.http.HttpListener;
import io.p11kms.server.http.ListenerSecurity;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * The floor of an HTTP front end's cost per call (a figure, no assertion), for two HTTP/1.1
 * listeners with 16 handler threads: the front ends' {@link HttpListener} (as the JSON and XKS APIs
 * run it), and Netty's HTTP/1.1 codec on the native epoll transport with its own aggregator,
 * handing each request to a handler pool once (the least such a listener costs). Each handler reads
 * the body and answers a JSON Encrypt's answer and does nothing else; the benchmark's client
 * ({@link HttpConnections}) sends a JSON Encrypt's headers and body, 64 in flight on keep-alive
 * connections, to one listener at a time, the listeners in turn, three rounds. CPU time of the
 * listener's threads and of the client's thread (user and system time, so that other processes
 * change it little): what HTTP/1.1 on each listener costs before any SigV4, JSON or key work.
 * {@code mvn -B -pl benchmark -am test -Dtest=HttpFloorTest -Dp11kms.bench=true
 * -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@EnabledIfSystemProperty(named = "p11kms.bench", matches = "true")
class HttpFloorTest {
  private static final int IN_FLIGHT = 64;
  private static final int HANDLER_THREADS = 16;
  private static final Duration WARM_UP = Duration.ofSeconds(10);
  private static final Duration MEASURE = Duration.ofSeconds(10);
  private static final byte[] ANSWER = new byte[360];

  @TempDir Path dir;

  @Test
  void floorPerCall() throws Exception {
    Arrays.fill(ANSWER, (byte) 'a');
    ANSWER[0] = '"';
    ANSWER[ANSWER.length - 1] = '"';
    SecurityConfig dev =
        SecurityConfig.builder(dir.resolve("audit.log"))
            .auditCheckpointInterval(Duration.ofMinutes(1))
            .devMode(true)
            .build();
    ListenerSecurity plaintext = ListenerSecurity.of(dev, ListenerSecurity.ClientCertificates.NONE);
    try (Floor listener =
            Floor.of(
                "floor-listener",
                HttpListener.start(
                    "floor-listener", "127.0.0.1", 0, plaintext, HANDLER_THREADS, new Answer()));
        NettyFloor netty = new NettyFloor("p11kms-floor-netty", HANDLER_THREADS)) {
      List<Floor> floors = List.of(listener, netty.floor());
      byte[] body = new byte[400];
      Arrays.fill(body, (byte) 'b');
      for (int round = 0; round < 3; round++) {
        for (Floor floor : floors) {
          HttpConnections client = new HttpConnections("127.0.0.1", floor.port());
          PerSecond headers = new PerSecond(second -> signedHeaders(floor.port(), body, second));
          run(floor, client, headers, body, WARM_UP, "warm-up");
          run(floor, client, headers, body, MEASURE, "measured");
        }
      }
    }
  }

  /** A listener under measurement: its port, and the prefix of its threads' names. */
  private interface Floor extends AutoCloseable {
    int port();

    String threads();

    @Override
    void close();

    static Floor of(String name, HttpListener listener) {
      return new Floor() {
        @Override
        public int port() {
          return listener.port();
        }

        @Override
        public String threads() {
          return "p11kms-" + name + "-";
        }

        @Override
        public void close() {
          listener.close();
        }
      };
    }
  }

  /**
   * Netty's HTTP/1.1 server on the native epoll transport (one event loop thread), each request
   * aggregated on the loop and handed to a pool of handler threads once; the answer written from
   * the handler thread (Netty posts it to the loop).
   */
  private static final class NettyFloor implements AutoCloseable {
    private final EventLoopGroup loop;
    private final ExecutorService handlers;
    private final Channel channel;
    private final String name;

    NettyFloor(String name, int handlerThreads) throws InterruptedException {
      this.name = name;
      this.loop = new EpollEventLoopGroup(1, new DefaultThreadFactory(name + "-loop", true));
      this.handlers =
          Executors.newFixedThreadPool(
              handlerThreads, new DefaultThreadFactory(name + "-handler", true));
      this.channel =
          new ServerBootstrap()
              .group(loop)
              .channel(EpollServerSocketChannel.class)
              .childOption(ChannelOption.TCP_NODELAY, true)
              .childHandler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                      ch.pipeline()
                          .addLast(new HttpServerCodec())
                          .addLast(new HttpObjectAggregator(256 * 1024))
                          .addLast(new NettyAnswer(handlers));
                    }
                  })
              .bind("127.0.0.1", 0)
              .sync()
              .channel();
    }

    Floor floor() {
      NettyFloor self = this;
      return new Floor() {
        @Override
        public int port() {
          return ((InetSocketAddress) channel.localAddress()).getPort();
        }

        @Override
        public String threads() {
          return name + "-";
        }

        @Override
        public void close() {
          self.close();
        }
      };
    }

    @Override
    public void close() {
      channel.close().syncUninterruptibly();
      loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
      handlers.shutdownNow();
    }
  }

  /**
   * As {@link Answer}, over Netty: the body copied out on the loop, the answer made on a handler.
   */
  private static final class NettyAnswer extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final ExecutorService handlers;

    NettyAnswer(ExecutorService handlers) {
      this.handlers = handlers;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      byte[] body = ByteBufUtil.getBytes(request.content());
      boolean keepAlive = HttpUtil.isKeepAlive(request);
      handlers.execute(
          () -> {
            Arrays.fill(body, (byte) 0);
            FullHttpResponse response =
                new DefaultFullHttpResponse(
                    HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(ANSWER));
            response
                .headers()
                .set("x-amzn-RequestId", UUID.randomUUID().toString())
                .set(HttpHeaderNames.CONTENT_TYPE, "application/x-amz-json-1.1")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, ANSWER.length);
            ChannelFuture written = ctx.writeAndFlush(response);
            if (!keepAlive) {
              written.addListener(ChannelFutureListener.CLOSE);
            }
          });
    }
  }

  /** The headers of the current second, made once per second. */
  private static final class PerSecond {
    private record Made(long second, HttpHeaders headers) {}

    private final LongFunction<HttpHeaders> make;
    private final AtomicReference<Made> made = new AtomicReference<>(new Made(-1, null));

    PerSecond(LongFunction<HttpHeaders> make) {
      this.make = make;
    }

    HttpHeaders current() {
      long second = Instant.now().getEpochSecond();
      Made last = made.get();
      if (last.second() != second) {
        last = new Made(second, make.apply(second));
        made.set(last);
      }
      return last.headers();
    }
  }

  /**
   * A JSON Encrypt's headers as the benchmark's client sends them in one second: X-Amz-Date and the
   * signature change every second (a placeholder here: this listener verifies nothing).
   */
  private static HttpHeaders signedHeaders(int port, byte[] body, long second) {
    String date =
        DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT)
            .withZone(ZoneOffset.UTC)
            .format(Instant.ofEpochSecond(second));
    String signature = String.format(Locale.ROOT, "%064x", second * 2654435761L);
    return new ReadOnlyHttpHeaders(
        true,
        "Host",
        "127.0.0.1:" + port,
        "Content-Type",
        "application/x-amz-json-1.1",
        "X-Amz-Target",
        "TrentService.Encrypt",
        "X-Amz-Date",
        date,
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEKEY234567/"
            + date.substring(0, 8)
            + "/us-east-1/kms/aws4_request,"
            + " SignedHeaders=content-type;host;x-amz-date;x-amz-target,"
            + " Signature="
            + signature,
        "Content-Length",
        Integer.toString(body.length));
  }

  private static void run(
      Floor floor,
      HttpConnections client,
      PerSecond headers,
      byte[] body,
      Duration time,
      String what)
      throws InterruptedException {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    AtomicLong calls = new AtomicLong();
    AtomicLong failures = new AtomicLong();
    long end = System.nanoTime() + time.toNanos();
    CountDownLatch done = new CountDownLatch(IN_FLIGHT);
    long[] server0 = cpu(threads, floor.threads());
    long[] client0 = cpu(threads, "bench-http");
    long wall0 = System.nanoTime();
    for (int i = 0; i < IN_FLIGHT; i++) {
      next(client, headers, body, end, calls, failures, done);
    }
    if (!done.await(time.toSeconds() + 30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("calls still running");
    }
    double seconds = (System.nanoTime() - wall0) / 1e9;
    long[] server1 = cpu(threads, floor.threads());
    long[] client1 = cpu(threads, "bench-http");
    long n = calls.get();
    System.out.printf(
        Locale.ROOT,
        "%-14s %-9s %,8d calls/s  listener %6.1f us/call (%d threads)  client %5.1f us/call"
            + "  failures %d%n",
        floor.threads(),
        what,
        Math.round(n / seconds),
        (server1[0] - server0[0]) / 1e3 / n,
        server1[1],
        (client1[0] - client0[0]) / 1e3 / n,
        failures.get());
  }

  private static void next(
      HttpConnections client,
      PerSecond headers,
      byte[] body,
      long end,
      AtomicLong calls,
      AtomicLong failures,
      CountDownLatch done) {
    if (System.nanoTime() >= end) {
      done.countDown();
      return;
    }
    ListenableFuture<HttpConnections.Response> call = client.post("/", headers.current(), body);
    call.addListener(
        () -> {
          try {
            if (call.get().status() == 200) {
              calls.incrementAndGet();
            } else {
              failures.incrementAndGet();
            }
          } catch (Exception e) {
            failures.incrementAndGet();
          }
          next(client, headers, body, end, calls, failures, done);
        },
        MoreExecutors.directExecutor());
  }

  /** CPU nanoseconds of the live threads whose name starts with {@code prefix}, and their count. */
  private static long[] cpu(ThreadMXBean threads, String prefix) {
    long total = 0;
    long count = 0;
    for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
      if (info != null && info.getThreadName().startsWith(prefix)) {
        long t = threads.getThreadCpuTime(info.getThreadId());
        if (t > 0) {
          total += t;
          count++;
        }
      }
    }
    return new long[] {total, count};
  }

  /** Answers 200 with a JSON body of an Encrypt's size, and nothing else. */
  private static final class Answer implements HttpHandler {
    @Override
    public HttpAnswer handle(HttpCall request) {
      Arrays.fill(request.body(), (byte) 0);
      return HttpAnswer.of(200, "application/x-amz-json-1.1", ANSWER)
          .header("x-amzn-RequestId", UUID.randomUUID().toString());
    }

    @Override
    public HttpAnswer refusal(int status) {
      return HttpAnswer.of(status, "application/x-amz-json-1.1", new byte[0]);
    }
  }
}
