package io.p11kms.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection's requests, one at a time (what comes while a request is handled waits, and the
 * connection stops reading until the answer is out, so that answers go out in order): on the event
 * loop, the headers checked and the body read up to {@link #MAX_BODY} bytes (more is read on and
 * discarded, up to {@link #DRAIN_LIMIT}); the whole request then handed to the handler pool once,
 * and the answer written from there. A request holds a place among the listener's requests in
 * flight from its headers to its answer, and the bytes of its body's buffer in the listener's
 * {@code bodyBudget} from their allocation until the handler is done with them: a request whose
 * buffer does not fit is answered {@link HttpHandler#overloaded} at once and its connection closed,
 * so that clients declaring or sending large bodies on many connections cannot fill the heap.
 */
final class Exchanges extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(Exchanges.class);

  private static final int MAX_BODY = HttpListener.MAX_BODY_BYTES;

  /** The most bytes of an oversized body read and thrown away before the error is sent. */
  static final long DRAIN_LIMIT = 4L * 1024 * 1024;

  private final HttpHandler handler;
  private final Executor pool;
  private final Semaphore inFlight;
  private final Semaphore bodyBudget;

  // Touched on the event loop only.
  private HttpRequest request;
  private RequestTarget target;
  private byte[] body;

  /** Bytes of {@link #bodyBudget} the current request holds: {@link #body}'s length. */
  private int reserved;

  private int length;
  private long received;
  private boolean holdsPlace;

  /** A request is being handled or answered: what else comes waits in {@link #pending}. */
  private boolean handling;

  private final Queue<Object> pending = new ArrayDeque<>();

  Exchanges(HttpHandler handler, Executor pool, Semaphore inFlight, Semaphore bodyBudget) {
    this.handler = handler;
    this.pool = pool;
    this.inFlight = inFlight;
    this.bodyBudget = bodyBudget;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (handling) {
      // Sent before the answer to the request being handled (pipelined): taken once it is
      // answered, and the connection reads no more until then.
      pending.add(msg);
      ctx.channel().config().setAutoRead(false);
      return;
    }
    take(ctx, msg);
  }

  private void take(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof HttpRequest head) {
        started(ctx, head);
      } else if (msg instanceof HttpContent content && request != null) {
        received(ctx, content);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void started(ChannelHandlerContext ctx, HttpRequest head) {
    DecoderResult result = head.decoderResult();
    if (result.isFailure()) {
      refuse(ctx, refusalStatus(result.cause()));
      return;
    }
    target = RequestTarget.parse(head.uri());
    if (target == null) {
      refuse(ctx, 400);
      return;
    }
    if (!inFlight.tryAcquire()) {
      // Answered without reading the body: the connection is not kept.
      handling = true;
      send(ctx, handler.overloaded().closing(), false);
      return;
    }
    holdsPlace = true;
    request = head;
    received = 0;
    length = 0;
    long declared = HttpUtil.getContentLength(head, -1L);
    if (declared > DRAIN_LIMIT) {
      // Not read at all: answered, and the connection closed.
      body = null;
      received = declared;
      hand(ctx, true);
      return;
    }
    if (!reserve(declared >= 0 && declared <= MAX_BODY ? (int) declared : 1024)) {
      overloaded(ctx);
      return;
    }
    body = new byte[reserved];
    if (HttpUtil.is100ContinueExpected(head)) {
      ctx.writeAndFlush(
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE, Unpooled.EMPTY_BUFFER));
    }
    if (head instanceof HttpContent content) {
      received(ctx, content);
    }
  }

  private void received(ChannelHandlerContext ctx, HttpContent content) {
    if (content.decoderResult().isFailure()) {
      refuse(ctx, 400);
      return;
    }
    ByteBuf bytes = content.content();
    int n = bytes.readableBytes();
    received += n;
    if (body != null && received <= MAX_BODY) {
      if (length + n > body.length) {
        if (!reserve(Math.min(MAX_BODY, Math.max(length + n, body.length * 2)))) {
          overloaded(ctx);
          return;
        }
        byte[] larger = Arrays.copyOf(body, reserved);
        Arrays.fill(body, (byte) 0);
        body = larger;
      }
      bytes.readBytes(body, length, n);
      length += n;
    } else if (body != null) {
      dropBody();
    }
    if (received > DRAIN_LIMIT) {
      hand(ctx, true);
    } else if (content instanceof LastHttpContent) {
      hand(ctx, false);
    }
  }

  /** Hands the request read to the pool; its answer is written from there. */
  private void hand(ChannelHandlerContext ctx, boolean close) {
    handling = true;
    Call call = new Call(request, target, exact(), reserved, ctx);
    reserved = 0;
    boolean keepAlive = !close && HttpUtil.isKeepAlive(request);
    request = null;
    body = null;
    try {
      pool.execute(() -> answer(ctx, call, keepAlive));
    } catch (RejectedExecutionException e) {
      bodyBudget.release(call.reserved);
      ctx.close();
    }
  }

  private byte[] exact() {
    if (body == null || body.length == length) {
      return body;
    }
    byte[] exact = Arrays.copyOf(body, length);
    Arrays.fill(body, (byte) 0);
    return exact;
  }

  /** On a handler thread. */
  private void answer(ChannelHandlerContext ctx, Call call, boolean keepAlive) {
    HttpAnswer answer;
    try {
      answer = handler.handle(call);
    } catch (RuntimeException | Error e) {
      log.error("an HTTP request failed", e);
      answer = handler.refusal(500);
    } finally {
      if (call.body != null) {
        Arrays.fill(call.body, (byte) 0);
      }
      bodyBudget.release(call.reserved);
    }
    send(ctx, answer, keepAlive);
  }

  private void send(ChannelHandlerContext ctx, HttpAnswer answer, boolean keepAlive) {
    byte[] bytes = answer.body();
    FullHttpResponse response =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1,
            HttpResponseStatus.valueOf(answer.status()),
            Unpooled.wrappedBuffer(bytes));
    HttpHeaders headers = response.headers();
    headers.set(HttpHeaderNames.CONTENT_TYPE, answer.contentType());
    headers.setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
    for (Map.Entry<String, String> header : answer.headers()) {
      headers.add(header.getKey(), header.getValue());
    }
    boolean keep = keepAlive && !answer.close();
    if (!keep) {
      headers.set(HttpHeaderNames.CONNECTION, "close");
    }
    ctx.writeAndFlush(response)
        .addListener(
            (ChannelFutureListener)
                written -> {
                  if (answer.isSecret()) {
                    Arrays.fill(bytes, (byte) 0);
                  }
                  answered(ctx, keep);
                });
  }

  /** On the event loop, once an answer is out (or could not be). */
  private void answered(ChannelHandlerContext ctx, boolean keep) {
    handling = false;
    leave();
    if (!keep || !ctx.channel().isActive()) {
      ctx.close();
      return;
    }
    Object next;
    while (!handling && (next = pending.poll()) != null) {
      take(ctx, next);
    }
    if (!handling && !ctx.channel().config().isAutoRead()) {
      ctx.channel().config().setAutoRead(true);
    }
  }

  private void refuse(ChannelHandlerContext ctx, int status) {
    answerUnread(ctx, handler.refusal(status));
  }

  /** The request's body does not fit the listener's budget: answered now, the connection closed. */
  private void overloaded(ChannelHandlerContext ctx) {
    answerUnread(ctx, handler.overloaded());
  }

  /** Answers the request without handing it on, drops what was read of it, and closes after. */
  private void answerUnread(ChannelHandlerContext ctx, HttpAnswer answer) {
    leave();
    request = null;
    dropBody();
    handling = true;
    send(ctx, answer.closing(), false);
  }

  /**
   * Takes what the body's buffer grows to, {@code size} bytes in all, from the budget; false (and
   * nothing more taken) when it does not fit.
   */
  private boolean reserve(int size) {
    int more = size - reserved;
    if (more > 0 && !bodyBudget.tryAcquire(more)) {
      return false;
    }
    reserved = Math.max(reserved, size);
    return true;
  }

  /** Zeroes and drops the body read so far, and gives its bytes back to the budget. */
  private void dropBody() {
    if (body != null) {
      Arrays.fill(body, (byte) 0);
      body = null;
    }
    bodyBudget.release(reserved);
    reserved = 0;
  }

  private void leave() {
    if (holdsPlace) {
      holdsPlace = false;
      inFlight.release();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    Object next;
    while ((next = pending.poll()) != null) {
      ReferenceCountUtil.release(next);
    }
    if (!handling) {
      leave();
      dropBody();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (event instanceof IdleStateEvent && !handling) {
      ctx.close();
    }
    ReferenceCountUtil.release(event);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("HTTP connection closed: {}", cause.getClass().getSimpleName());
    ctx.close();
  }

  private static int refusalStatus(Throwable cause) {
    if (cause instanceof TooLongHttpHeaderException) {
      return 431;
    }
    if (cause instanceof TooLongHttpLineException) {
      return 414;
    }
    return 400;
  }

  /** A request as the handler sees it. */
  private static final class Call implements HttpCall {
    private final HttpRequest request;
    private final RequestTarget target;
    private final byte[] body;

    /** Bytes of the listener's body budget this request holds until its handler is done. */
    private final int reserved;

    private final ChannelHandlerContext ctx;

    Call(
        HttpRequest request,
        RequestTarget target,
        byte[] body,
        int reserved,
        ChannelHandlerContext ctx) {
      this.request = request;
      this.target = target;
      this.body = body;
      this.reserved = reserved;
      this.ctx = ctx;
    }

    @Override
    public String method() {
      return request.method().name();
    }

    @Override
    public String rawPath() {
      return target.rawPath();
    }

    @Override
    public String rawQuery() {
      return target.rawQuery();
    }

    @Override
    public String header(String name) {
      return request.headers().get(name);
    }

    @Override
    public Iterable<Map.Entry<String, String>> headers() {
      return request.headers();
    }

    @Override
    public byte[] body() {
      return body;
    }

    @Override
    public String remoteAddress() {
      return ctx.channel().remoteAddress() instanceof InetSocketAddress address
          ? address.getAddress().getHostAddress()
          : "";
    }

    @Override
    public X509Certificate clientCertificate() {
      SslHandler tls = ctx.pipeline().get(SslHandler.class);
      if (tls == null) {
        return null;
      }
      try {
        Certificate[] chain = tls.engine().getSession().getPeerCertificates();
        return chain.length > 0 && chain[0] instanceof X509Certificate first ? first : null;
      } catch (SSLPeerUnverifiedException e) {
        return null;
      }
    }
  }
}
