package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.testing.TempDirs;
import io.p11kms.server.config.SecurityConfig;
import io.p11kms.server.http.HttpAnswer;
import io.p11kms.server.http.HttpCall;
import io.p11kms.server.http.HttpHandler;
import io.p11kms.server.http.HttpListener;
import io.p11kms.server.http.ListenerSecurity;
import io.p11kms.server.http.ListenerSecurity.ClientCertificates;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The HTTP listener's wire behaviour on a real port, over raw sockets: requests on one connection
 * answered in order, Expect: 100-continue, chunked bodies, a body over the limit read on and handed
 * over as none, headers too large and ambiguous paths refused in the front end's format, the limit
 * of requests in flight, the listener's budget of request bodies held at once, and no server
 * version.
 */
class HttpListenerWireIT {
  private static Path dir;
  private static ListenerSecurity plaintext;

  @BeforeAll
  static void security() throws Exception {
    dir = Files.createTempDirectory("p11kms-http-wire-it");
    plaintext =
        ListenerSecurity.of(
            SecurityConfig.builder(dir.resolve("audit.log")).devMode(true).build(),
            ClientCertificates.NONE);
  }

  @AfterAll
  static void cleanUp() throws Exception {
    TempDirs.deleteTree(dir);
  }

  @Test
  void requestsOnOneConnection_answeredInOrder_evenWhenTheFirstIsSlower() throws Exception {
    try (HttpListener listener = start(new Echo());
        Socket socket = connect(listener)) {
      send(socket, post("/slow", "a") + post("/fast", "bb"));
      InputStream in = new BufferedInputStream(socket.getInputStream());
      RawHttpResponse first = RawHttpResponse.read(in);
      RawHttpResponse second = RawHttpResponse.read(in);
      assertThat(first.body()).isEqualTo("POST /slow null 1");
      assertThat(second.body()).isEqualTo("POST /fast null 2");
      assertThat(first.headers()).noneMatch(h -> h.startsWith("server:"));
      assertThat(first.headers()).doesNotContain("connection: close");
    }
  }

  @Test
  void expectContinue_isAnsweredWith100_thenTheAnswer() throws Exception {
    try (HttpListener listener = start(new Echo());
        Socket socket = connect(listener)) {
      send(
          socket,
          "POST /x?a=1 HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
      InputStream in = new BufferedInputStream(socket.getInputStream());
      assertThat(RawHttpResponse.read(in).statusLine()).isEqualTo("HTTP/1.1 100 Continue");
      send(socket, "abc");
      assertThat(RawHttpResponse.read(in).body()).isEqualTo("POST /x a=1 3");
    }
  }

  @Test
  void chunkedBody_isHandedOverWhole() throws Exception {
    try (HttpListener listener = start(new Echo());
        Socket socket = connect(listener)) {
      send(
          socket,
          "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
              + "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n");
      assertThat(RawHttpResponse.read(new BufferedInputStream(socket.getInputStream())).body())
          .isEqualTo("POST /c null 7");
    }
  }

  @Test
  void bodyOverTheLimit_readOn_handedOverAsNone_connectionKept() throws Exception {
    try (HttpListener listener = start(new Echo());
        Socket socket = connect(listener)) {
      String big = "a".repeat(HttpListener.MAX_BODY_BYTES + 1);
      send(socket, post("/big", big) + post("/next", "x"));
      InputStream in = new BufferedInputStream(socket.getInputStream());
      assertThat(RawHttpResponse.read(in).body()).isEqualTo("POST /big null none");
      assertThat(RawHttpResponse.read(in).body()).isEqualTo("POST /next null 1");
    }
  }

  @Test
  void headersTooLarge_refusedInTheFrontEndsFormat_connectionClosed() throws Exception {
    try (HttpListener listener = start(new Echo());
        Socket socket = connect(listener)) {
      send(
          socket,
          "POST / HTTP/1.1\r\nHost: h\r\nX-Big: "
              + "b".repeat(16 * 1024)
              + "\r\nContent-Length: 0\r\n\r\n");
      RawHttpResponse refused =
          RawHttpResponse.read(new BufferedInputStream(socket.getInputStream()));
      assertThat(refused.statusLine()).startsWith("HTTP/1.1 431");
      assertThat(refused.body()).isEqualTo("refused 431");
      assertThat(refused.headers()).contains("connection: close");
    }
  }

  @Test
  void ambiguousPaths_refused() throws Exception {
    try (HttpListener listener = start(new Echo())) {
      for (String path : List.of("/a%2Fb", "/a/../b", "/a/%2e%2E/b", "/a\\b", "/a%zz")) {
        try (Socket socket = connect(listener)) {
          send(socket, post(path, "x"));
          RawHttpResponse refused =
              RawHttpResponse.read(new BufferedInputStream(socket.getInputStream()));
          assertThat(refused.body()).as(path).isEqualTo("refused 400");
        }
      }
    }
  }

  @Test
  void overTheLimitInFlight_overloadedAtOnce_connectionClosed() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    HttpHandler held =
        new Echo() {
          @Override
          public HttpAnswer handle(HttpCall call) {
            try {
              release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            return super.handle(call);
          }
        };
    try (HttpListener listener = HttpListener.start("wire", "127.0.0.1", 0, plaintext, 4, 1, held);
        Socket slow = connect(listener);
        Socket other = connect(listener)) {
      // The first request's headers are in and its body is not: it holds the one place.
      send(slow, "POST /slow HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab");
      Thread.sleep(300);
      send(other, post("/other", "x"));
      RawHttpResponse refused =
          RawHttpResponse.read(new BufferedInputStream(other.getInputStream()));
      assertThat(refused.body()).isEqualTo("refused 429");
      assertThat(refused.headers()).contains("connection: close");
      send(slow, "cde");
      release.countDown();
      assertThat(RawHttpResponse.read(new BufferedInputStream(slow.getInputStream())).body())
          .isEqualTo("POST /slow null 5");
    }
  }

  @Test
  void bodiesOverTheListenersBudget_overloadedAtOnce_untilOneIsGivenBack() throws Exception {
    int fit = HttpListener.BODY_BUDGET_BYTES / HttpListener.MAX_BODY_BYTES;
    String largest =
        "POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: "
            + HttpListener.MAX_BODY_BYTES
            + "\r\n\r\nab";
    List<Socket> holding = new ArrayList<>();
    try (HttpListener listener = start(new Echo())) {
      try {
        // Each declares a body of the largest size and sends two bytes of it: the listener holds
        // a buffer of that size for each, until the budget is spent.
        for (int i = 0; i < fit; i++) {
          Socket socket = connect(listener);
          holding.add(socket);
          send(socket, largest);
        }
        Thread.sleep(300);
        try (Socket over = connect(listener)) {
          send(over, largest);
          RawHttpResponse refused =
              RawHttpResponse.read(new BufferedInputStream(over.getInputStream()));
          assertThat(refused.body()).isEqualTo("refused 429");
          assertThat(refused.headers()).contains("connection: close");
        }
        // A connection that goes gives its buffer back: the next request fits again.
        holding.remove(0).close();
        Thread.sleep(300);
        try (Socket next = connect(listener)) {
          send(next, post("/next", "x"));
          assertThat(RawHttpResponse.read(new BufferedInputStream(next.getInputStream())).body())
              .isEqualTo("POST /next null 1");
        }
      } finally {
        for (Socket socket : holding) {
          socket.close();
        }
      }
    }
  }

  private static HttpListener start(HttpHandler handler) {
    return HttpListener.start("wire", "127.0.0.1", 0, plaintext, 2, handler);
  }

  private static Socket connect(HttpListener listener) throws IOException {
    Socket socket = new Socket("127.0.0.1", listener.port());
    socket.setSoTimeout(20_000);
    return socket;
  }

  private static String post(String path, String body) {
    return "POST "
        + path
        + " HTTP/1.1\r\nHost: h\r\nContent-Length: "
        + body.length()
        + "\r\n\r\n"
        + body;
  }

  private static void send(Socket socket, String text) throws IOException {
    OutputStream out = socket.getOutputStream();
    out.write(text.getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  /** Answers with its method, path, query and body length; "/slow" after a while. */
  private static class Echo implements HttpHandler {
    @Override
    public HttpAnswer handle(HttpCall call) {
      if (call.rawPath().equals("/slow")) {
        try {
          Thread.sleep(200);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      String length = call.body() == null ? "none" : Integer.toString(call.body().length);
      return HttpAnswer.of(
          200,
          "text/plain",
          (call.method() + " " + call.rawPath() + " " + call.rawQuery() + " " + length)
              .getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public HttpAnswer refusal(int status) {
      return HttpAnswer.of(
          status, "text/plain", ("refused " + status).getBytes(StandardCharsets.UTF_8));
    }
  }
}
