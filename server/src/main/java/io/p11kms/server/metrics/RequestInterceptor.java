package io.p11kms.server.metrics;

import com.google.rpc.ErrorInfo;
import io.grpc.Context;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.p11kms.server.grpc.RequestIds;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Measures and logs every call: a timer {@code p11kms.requests} tagged with the operation, the gRPC
 * status and the AWS exception name (from the ErrorInfo the server sent), and one log line per call
 * with a request id: at INFO for a failed call, at DEBUG for a successful one (enable with {@code
 * -Dorg.slf4j.simpleLogger.log.io.p11kms.server.requests=debug}). The request id goes back to the
 * client in the {@code x-request-id} header (in the trailers of an answer that has no headers), so
 * that a user's report can be matched with the log.
 *
 * <p>Nothing of the request or the response is read: no key id, no context, no plaintext, no
 * ciphertext reaches the metrics or the log.
 */
public final class RequestInterceptor implements ServerInterceptor {
  /** The response header (and MDC key) holding the request id. */
  public static final String REQUEST_ID = "x-request-id";

  static final Metadata.Key<String> REQUEST_ID_KEY =
      Metadata.Key.of(REQUEST_ID, Metadata.ASCII_STRING_MARSHALLER);

  private static final Logger log = LoggerFactory.getLogger("io.p11kms.server.requests");

  private final MeterRegistry registry;

  /**
   * The timers by their tags, looked up in the registry once each: building and registering a timer
   * on every call (its id, its tags, its histogram's configuration) cost more than recording.
   * Bounded by the tags' values: the operations, the status codes, the AWS exception names.
   */
  private final Map<TimerTags, Timer> timers = new ConcurrentHashMap<>();

  private record TimerTags(String service, String operation, Status.Code status, String error) {}

  public RequestInterceptor(MeterRegistry registry) {
    this.registry = registry;
  }

  private Timer timer(TimerTags tags) {
    Timer timer = timers.get(tags);
    return timer != null ? timer : timers.computeIfAbsent(tags, this::register);
  }

  private Timer register(TimerTags tags) {
    return Timer.builder("p11kms.requests")
        .description("gRPC calls by operation, status and AWS exception name")
        .tag("service", tags.service() == null ? "" : tags.service())
        .tag("operation", tags.operation() == null ? "" : tags.operation())
        .tag("status", tags.status().name())
        .tag("error", tags.error())
        .publishPercentileHistogram()
        .register(registry);
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    String operation = call.getMethodDescriptor().getBareMethodName();
    String service = call.getMethodDescriptor().getServiceName();
    String requestId = RequestIds.currentOrNew();
    long start = System.nanoTime();
    ServerCall<ReqT, RespT> measured =
        new SimpleForwardingServerCall<>(call) {
          /** Touched by the call's own thread only: gRPC serializes a call's server methods. */
          private boolean headersSent;

          @Override
          public void sendHeaders(Metadata responseHeaders) {
            responseHeaders.put(REQUEST_ID_KEY, requestId);
            headersSent = true;
            super.sendHeaders(responseHeaders);
          }

          @Override
          public void close(Status status, Metadata trailers) {
            // Once in each answer: in its headers, or, for an answer of trailers only (a call
            // that failed before any message), in its trailers. Sent in both, the id cost a
            // header compression and a frame more per call.
            if (!headersSent && !trailers.containsKey(REQUEST_ID_KEY)) {
              trailers.put(REQUEST_ID_KEY, requestId);
            }
            long nanos = System.nanoTime() - start;
            String error = errorName(status, trailers);
            timer(new TimerTags(service, operation, status.getCode(), error))
                .record(nanos, TimeUnit.NANOSECONDS);
            // Failed calls are logged at INFO, successful ones at DEBUG (off by default). One
            // INFO line per call cost the benchmark ~177k synchronous stderr writes in a 2-minute
            // run (slf4j-simple has no async sink); the timer above still counts every call.
            boolean ok = status.isOk();
            if (ok ? log.isDebugEnabled() : log.isInfoEnabled()) {
              logCall(ok, requestId, operation, status, error, nanos);
            }
            super.close(status, trailers);
          }
        };
    // The interceptors behind this one take the id from the context while the call starts (the
    // access layer puts it in the context its handler runs in, for the audit record). Attached
    // for the start only: a context attached on every callback of every call, as a wrapped
    // listener would, cost each call an attach and a detach per callback for a value no handler
    // reads.
    Context context = RequestIds.with(Context.current(), requestId);
    Context previous = context.attach();
    try {
      return next.startCall(measured, headers);
    } finally {
      context.detach(previous);
    }
  }

  private static void logCall(
      boolean ok, String requestId, String operation, Status status, String error, long nanos) {
    MDC.put(REQUEST_ID, requestId);
    try {
      String format = "request id={} op={} status={}{} duration_ms={}";
      Object[] args = {
        requestId,
        operation,
        status.getCode(),
        error.isEmpty() ? "" : " error=" + error,
        String.format(Locale.ROOT, "%.3f", nanos / 1e6)
      };
      if (ok) {
        log.debug(format, args);
      } else {
        log.info(format, args);
      }
    } finally {
      MDC.remove(REQUEST_ID);
    }
  }

  /** The AWS exception name of a failed call, or "" (also for a status without ErrorInfo). */
  private static String errorName(Status status, Metadata trailers) {
    if (status.isOk()) {
      return "";
    }
    try {
      com.google.rpc.Status details = StatusProto.fromStatusAndTrailers(status, trailers);
      for (com.google.protobuf.Any any : details.getDetailsList()) {
        if (any.is(ErrorInfo.class)) {
          String reason = any.unpack(ErrorInfo.class).getReason();
          // Bounded: the AWS exception names; anything odd collapses to one value.
          return reason.matches("[A-Za-z]{1,64}") ? reason : "other";
        }
      }
    } catch (Exception e) {
      // No readable details: the status code alone says enough.
    }
    return "";
  }
}
