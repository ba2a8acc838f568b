package io.p11kms.bench;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.ReadOnlyHttpHeaders;
import io.p11kms.server.config.SecurityConfig;
import io.p11kms.server.http.HttpListener;
import io.p11kms.server.http.ListenerSecurity;
import io.p11kms.server.http.RequestBodies;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongFunction;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * The floor of an HTTP front end's cost per call (a figure, no assertion): the front ends' {@link
 * HttpListener} (Jetty, HTTP/1.1, as the JSON and XKS APIs run it, 16 handler threads) with a
 * handler that reads the body and answers a JSON Encrypt's answer and does nothing else, called by
 * the benchmark's client ({@link HttpConnections}) with a JSON Encrypt's headers and body, 64 in
 * flight on keep-alive connections. CPU time of the listener's threads and of the client's thread
 * (user and system time, so that other processes change it little): what HTTP/1.1 on this listener
 * costs before any SigV4, JSON or key work. {@code mvn -B -pl benchmark -am test
 * -Dtest=HttpFloorTest -Dp11kms.bench=true -Dsurefire.failIfNoSpecifiedTests=false}.
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
    try (HttpListener listener =
        HttpListener.start(
            "floor",
            "127.0.0.1",
            0,
            ListenerSecurity.of(dev, ListenerSecurity.ClientCertificates.NONE),
            HANDLER_THREADS,
            new Answer())) {
      HttpConnections client = new HttpConnections("127.0.0.1", listener.port());
      byte[] body = new byte[400];
      Arrays.fill(body, (byte) 'b');
      PerSecond headers = new PerSecond(second -> signedHeaders(listener.port(), body, second));
      for (int round = 0; round < 3; round++) {
        run(client, headers, body, WARM_UP, "warm-up");
        run(client, headers, body, MEASURE, "measured");
      }
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
      HttpConnections client, PerSecond headers, byte[] body, Duration time, String what)
      throws InterruptedException {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    AtomicLong calls = new AtomicLong();
    AtomicLong failures = new AtomicLong();
    long end = System.nanoTime() + time.toNanos();
    CountDownLatch done = new CountDownLatch(IN_FLIGHT);
    long[] server0 = cpu(threads, "p11kms-floor");
    long[] client0 = cpu(threads, "bench-http");
    long wall0 = System.nanoTime();
    for (int i = 0; i < IN_FLIGHT; i++) {
      next(client, headers, body, end, calls, failures, done);
    }
    if (!done.await(time.toSeconds() + 30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("calls still running");
    }
    double seconds = (System.nanoTime() - wall0) / 1e9;
    long[] server1 = cpu(threads, "p11kms-floor");
    long[] client1 = cpu(threads, "bench-http");
    long n = calls.get();
    System.out.printf(
        Locale.ROOT,
        "%-9s %,8d calls/s  listener %6.1f us/call (%d threads)  client %5.1f us/call  failures %d%n",
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

  /** Reads the body, answers 200 with a JSON body of an Encrypt's size, and nothing else. */
  private static final class Answer extends Handler.Abstract {
    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
      RequestBodies.readAtMost(request, 256 * 1024).orElseThrow();
      response.setStatus(200);
      response.getHeaders().put("x-amzn-RequestId", UUID.randomUUID().toString());
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/x-amz-json-1.1");
      response.write(true, ByteBuffer.wrap(ANSWER), callback);
      return true;
    }
  }
}
