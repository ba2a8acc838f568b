package io.p11kms.server.http;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.p11kms.server.config.ConfigException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One HTTP/1.1 listener (Netty's HTTP codec, on the native epoll transport where there is one)
 * serving one front end's {@link HttpHandler}: with TLS from the server's certificate files ({@link
 * ListenerSecurity}, client certificates not asked for, optional or required), or, in development
 * mode only, plaintext on a loopback address. One event loop thread reads each request (headers of
 * at most 8 KiB, body of at most 256 KiB) and hands it to a bounded pool of handler threads once;
 * the handler may block (token calls do) and its answer is written from there. Connections idle for
 * {@value #IDLE_SECONDS} s are closed. Neither a server version nor a stack trace is ever sent.
 */
public final class HttpListener implements AutoCloseable {
  /** The largest request body handed to a handler (a larger one is read on and discarded). */
  public static final int MAX_BODY_BYTES = 256 * 1024;

  /**
   * The most bytes of request bodies a listener holds at once, read or being read: 64 bodies of the
   * largest size. A request whose body does not fit is answered {@link HttpHandler#overloaded}.
   */
  public static final int BODY_BUDGET_BYTES = 64 * MAX_BODY_BYTES;

  /** How long a connection may stay idle (no request, or a request whose bytes stop coming). */
  static final int IDLE_SECONDS = 30;

  private static final int MAX_LINE = 8 * 1024;
  private static final int MAX_HEADERS = 8 * 1024;

  private final EventLoopGroup loop;
  private final ExecutorService handlers;
  private final Channel channel;

  private HttpListener(EventLoopGroup loop, ExecutorService handlers, Channel channel) {
    this.loop = loop;
    this.handlers = handlers;
    this.channel = channel;
  }

  /**
   * Listens on {@code host:port} (port 0: any free port) and serves {@code handler}, any number of
   * requests in flight.
   *
   * @param name names the listener's threads ({@code p11kms-<name>-...})
   * @param handlerThreads how many requests are handled at once; more wait in the queue
   * @throws ConfigException when the security does not allow the address (plaintext off loopback)
   * @throws IllegalStateException when it cannot listen
   */
  public static HttpListener start(
      String name,
      String host,
      int port,
      ListenerSecurity security,
      int handlerThreads,
      HttpHandler handler) {
    return start(name, host, port, security, handlerThreads, Integer.MAX_VALUE, handler);
  }

  /**
   * As above, at most {@code maxInFlight} requests at once (from their headers to their answer):
   * one more is answered {@link HttpHandler#overloaded} at once, its body unread, and its
   * connection closed.
   */
  public static HttpListener start(
      String name,
      String host,
      int port,
      ListenerSecurity security,
      int handlerThreads,
      int maxInFlight,
      HttpHandler handler) {
    if (security.plaintext()) {
      requireLoopback(host);
    }
    Supplier<SslHandler> tls = security.plaintext() ? null : security.tlsHandlers();
    boolean epoll = Epoll.isAvailable();
    EventLoopGroup loop =
        epoll
            ? new EpollEventLoopGroup(1, new DefaultThreadFactory("p11kms-" + name + "-loop", true))
            : new NioEventLoopGroup(1, new DefaultThreadFactory("p11kms-" + name + "-loop", true));
    ThreadPoolExecutor handlers =
        new ThreadPoolExecutor(
            handlerThreads,
            handlerThreads,
            60,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            new DefaultThreadFactory("p11kms-" + name + "-handler", true));
    handlers.allowCoreThreadTimeOut(true);
    Semaphore inFlight = new Semaphore(maxInFlight);
    Semaphore bodyBudget = new Semaphore(BODY_BUDGET_BYTES);
    Class<? extends ServerChannel> type =
        epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    ChannelFuture bound =
        new ServerBootstrap()
            .group(loop)
            .channel(type)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ChannelPipeline pipeline = ch.pipeline();
                    if (tls != null) {
                      pipeline.addLast(tls.get());
                    }
                    pipeline
                        .addLast(new IdleStateHandler(0, 0, IDLE_SECONDS))
                        .addLast(new HttpServerCodec(MAX_LINE, MAX_HEADERS, 16 * 1024))
                        .addLast(new Exchanges(handler, handlers, inFlight, bodyBudget));
                  }
                })
            .bind(host, port)
            .awaitUninterruptibly();
    if (!bound.isSuccess()) {
      loop.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      handlers.shutdownNow();
      throw new IllegalStateException(
          "cannot listen on "
              + host
              + ":"
              + port
              + " ("
              + name
              + "): "
              + bound.cause().getMessage());
    }
    return new HttpListener(loop, handlers, bound.channel());
  }

  /** The port it listens on (useful when started with port 0). */
  public int port() {
    return ((InetSocketAddress) channel.localAddress()).getPort();
  }

  /** Stops taking requests, lets running ones finish for a few seconds, and stops. */
  @Override
  public void close() {
    channel.close().syncUninterruptibly();
    handlers.shutdown();
    try {
      handlers.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    handlers.shutdownNow();
    loop.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private static void requireLoopback(String host) {
    InetAddress address;
    try {
      address = InetAddress.getByName(host);
    } catch (UnknownHostException e) {
      throw new ConfigException("listen address '" + host + "' does not resolve");
    }
    if (!address.isLoopbackAddress()) {
      throw new ConfigException(
          "a plaintext listener binds to a loopback address only, not " + host);
    }
  }
}
