package io.p11kms.it;

import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientStreamTracer;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Records, on the client, every attempt of every call made through it: which server (port) it went
 * to, whether it succeeded, and whether it was a retry. gRPC's retries are invisible to the caller;
 * this is how a test sees them.
 */
final class CallAttempts implements ClientInterceptor {
  private final Map<Integer, AtomicLong> okByPort = new ConcurrentHashMap<>();
  private final Map<Integer, AtomicLong> failedByPort = new ConcurrentHashMap<>();
  private final AtomicLong retries = new AtomicLong();
  private final AtomicLong transparentRetries = new AtomicLong();
  private final AtomicInteger mostPreviousAttempts = new AtomicInteger();

  private final ClientStreamTracer.Factory factory =
      new ClientStreamTracer.Factory() {
        @Override
        public ClientStreamTracer newClientStreamTracer(
            ClientStreamTracer.StreamInfo info, Metadata headers) {
          if (info.isTransparentRetry()) {
            // gRPC's own retry of an attempt that never reached a server; not a policy retry.
            transparentRetries.incrementAndGet();
          } else if (info.getPreviousAttempts() > 0) {
            retries.incrementAndGet();
            mostPreviousAttempts.accumulateAndGet(info.getPreviousAttempts(), Math::max);
          }
          return new ClientStreamTracer() {
            private volatile int port = -1;

            @Override
            public void streamCreated(Attributes transportAttrs, Metadata headers) {
              SocketAddress remote = transportAttrs.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
              if (remote instanceof InetSocketAddress inet) {
                port = inet.getPort();
              }
            }

            @Override
            public void streamClosed(Status status) {
              (status.isOk() ? okByPort : failedByPort)
                  .computeIfAbsent(port, p -> new AtomicLong())
                  .incrementAndGet();
            }
          };
        }
      };

  @Override
  public <Q, R> ClientCall<Q, R> interceptCall(
      MethodDescriptor<Q, R> method, CallOptions callOptions, Channel next) {
    return next.newCall(method, callOptions.withStreamTracerFactory(factory));
  }

  /** Attempts that succeeded on the server listening on {@code port}. */
  long ok(int port) {
    AtomicLong n = okByPort.get(port);
    return n == null ? 0 : n.get();
  }

  /** Attempts that failed on the server listening on {@code port}. */
  long failed(int port) {
    AtomicLong n = failedByPort.get(port);
    return n == null ? 0 : n.get();
  }

  /** Attempts that were retries of an earlier attempt of the same call. */
  long retries() {
    return retries.get();
  }

  /** Attempts gRPC repeated because the first never left the client (no retry policy needed). */
  long transparentRetries() {
    return transparentRetries.get();
  }

  /** The most retries any one call needed. */
  int mostRetriesOfOneCall() {
    return mostPreviousAttempts.get();
  }
}
