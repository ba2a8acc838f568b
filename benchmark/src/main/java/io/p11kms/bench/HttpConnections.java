package io.p11kms.bench;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.SettableFuture;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * HTTP/1.1 to one host and port with Netty's codec, as an SDK's HTTP client calls a service: a pool
 * of keep-alive connections, one request at a time on each (no pipelining), a new connection when
 * every open one is busy, so that N calls in flight use N connections. One event loop thread does
 * all the I/O (a daemon thread: it ends with the benchmark): the client shares the server's cores,
 * and what it spends is measured.
 */
final class HttpConnections {
  /** A call that gets no byte of its answer for this long fails, and its connection is closed. */
  static final int READ_TIMEOUT_SECONDS = 30;

  private static final int MAX_RESPONSE_BYTES = 1024 * 1024;
  private static final AttributeKey<SettableFuture<Response>> PENDING =
      AttributeKey.valueOf("p11kms-bench-pending");

  /** An answer: its status and its body as text. */
  record Response(int status, String body) {}

  private final EventLoopGroup loop =
      new NioEventLoopGroup(1, new DefaultThreadFactory("bench-http", true));
  private final Bootstrap bootstrap;
  private final Queue<Channel> idle = new ConcurrentLinkedQueue<>();

  HttpConnections(String host, int port) {
    this.bootstrap =
        new Bootstrap()
            .group(loop)
            .channel(NioSocketChannel.class)
            .option(ChannelOption.TCP_NODELAY, true)
            .remoteAddress(host, port)
            .handler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast(new ReadTimeoutHandler(READ_TIMEOUT_SECONDS, TimeUnit.SECONDS))
                        .addLast(new HttpClientCodec())
                        .addLast(new HttpObjectAggregator(MAX_RESPONSE_BYTES))
                        .addLast(new Exchange());
                  }
                });
  }

  /**
   * POSTs {@code body} to {@code path} with {@code headers} (Host and Content-Length among them, as
   * the caller signed them) on an idle connection, or a new one.
   */
  ListenableFuture<Response> post(String path, HttpHeaders headers, byte[] body) {
    SettableFuture<Response> done = SettableFuture.create();
    Channel channel;
    while ((channel = idle.poll()) != null && !channel.isActive()) {
      // closed while idle (by the server, or a read timeout): dropped
    }
    if (channel != null) {
      send(channel, path, headers, body, done);
    } else {
      bootstrap
          .connect()
          .addListener(
              (ChannelFuture connected) -> {
                if (connected.isSuccess()) {
                  send(connected.channel(), path, headers, body, done);
                } else {
                  done.setException(connected.cause());
                }
              });
    }
    return done;
  }

  private static void send(
      Channel channel,
      String path,
      HttpHeaders headers,
      byte[] body,
      SettableFuture<Response> done) {
    channel.attr(PENDING).set(done);
    channel
        .writeAndFlush(
            new DefaultFullHttpRequest(
                HttpVersion.HTTP_1_1,
                HttpMethod.POST,
                path,
                Unpooled.wrappedBuffer(body),
                headers,
                EmptyHttpHeaders.INSTANCE))
        .addListener(
            (ChannelFuture written) -> {
              if (!written.isSuccess()) {
                fail(written.channel(), written.cause());
              }
            });
  }

  private static void fail(Channel channel, Throwable cause) {
    SettableFuture<Response> pending = channel.attr(PENDING).getAndSet(null);
    channel.close();
    if (pending != null) {
      pending.setException(cause);
    }
  }

  /** Completes the connection's pending call with its answer and gives the connection back. */
  private final class Exchange extends SimpleChannelInboundHandler<FullHttpResponse> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
      SettableFuture<Response> pending = ctx.channel().attr(PENDING).getAndSet(null);
      int status = response.status().code();
      String text = status == 200 ? "" : response.content().toString(StandardCharsets.UTF_8);
      if (HttpUtil.isKeepAlive(response)) {
        idle.add(ctx.channel());
      } else {
        ctx.close();
      }
      if (pending != null) {
        pending.set(new Response(status, text));
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      fail(ctx.channel(), new IOException("the server closed the connection"));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      fail(ctx.channel(), cause);
    }
  }
}
