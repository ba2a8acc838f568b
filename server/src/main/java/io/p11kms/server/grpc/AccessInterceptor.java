package io.p11kms.server.grpc;

import com.google.protobuf.Message;
import com.google.rpc.ErrorInfo;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.p11kms.server.audit.AuditLog;
import io.p11kms.server.auth.Principals;
import io.p11kms.server.service.KeyLookup;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Every KMS call passes here: it is authorised by {@link AccessRules} before the handler runs (so
 * before any token call), and audited once it ends, allowed, denied or failed. The audit log is
 * checked before the handler runs, so a call that could not be recorded fails with {@code
 * KMSInternalException} (INTERNAL) before it has any effect; should the write itself fail after
 * that check, the call still fails with INTERNAL and, when it had succeeded, its response is not
 * sent.
 */
final class AccessInterceptor implements ServerInterceptor {
  private final AccessLayer layer;

  AccessInterceptor(AccessLayer layer) {
    this.layer = layer;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String requestId = RequestIds.currentOrNew();
    Audited<Q, R> audited =
        new Audited<>(
            call, call.getMethodDescriptor().getBareMethodName(), Principals.current(), requestId);
    // The interceptors and the handler behind this one see the same request id.
    // The key reads of the access check are the handler's too (RequestLookups).
    KeyLookup lookup = layer.lookup();
    Context context = RequestLookups.with(RequestIds.with(Context.current(), requestId), lookup);
    context =
        BatchItemAccess.with(
            context, new BatchItemAccess(layer, audited.principal, audited.requestId));
    ServerCall.Listener<Q> delegate = Contexts.interceptCall(context, audited, headers, next);
    return new SimpleForwardingServerCallListener<>(delegate) {
      private boolean rejected;

      @Override
      public void onMessage(Q message) {
        try {
          audited.request = (Message) message;
          GrantTokens.check((Message) message);
          layer.authorize(
              audited.principal,
              audited.method,
              (Message) message,
              lookup,
              checks -> {
                if (!checks.isEmpty()) {
                  audited.keyArn = layer.arn(checks.get(0).keyId());
                  audited.contextKeys =
                      new ArrayList<>(new TreeSet<>(checks.get(0).context().keySet()));
                }
              });
          // Fail closed before the handler runs, so that the call has no effect.
          layer.ensureAuditWritable();
        } catch (RuntimeException e) {
          rejected = true;
          audited.fail(ErrorStatus.of(e));
          return;
        }
        super.onMessage(message);
      }

      @Override
      public void onHalfClose() {
        if (!rejected) {
          super.onHalfClose();
        }
      }
    };
  }

  private final class Audited<Q, R> extends SimpleForwardingServerCall<Q, R> {
    final String method;
    final String principal;
    final String requestId;
    Message request;
    String keyArn = "";
    List<String> contextKeys = List.of();
    private boolean closed;

    Audited(ServerCall<Q, R> call, String method, String principal, String requestId) {
      super(call);
      this.method = method;
      this.principal = principal;
      this.requestId = requestId;
    }

    @Override
    public void sendMessage(R message) {
      if (closed) {
        return;
      }
      try {
        String created = layer.afterSuccess(principal, method, request, (Message) message);
        if (created != null) {
          keyArn = created;
        }
        record("SUCCEEDED", "");
      } catch (RuntimeException e) {
        StatusRuntimeException s = ErrorStatus.of(e);
        closed = true;
        if (!(e instanceof io.p11kms.server.audit.AuditException)) {
          s = recordOrInternal(s);
        }
        super.close(s.getStatus(), trailers(s));
        return;
      }
      super.sendMessage(message);
    }

    @Override
    public void close(Status status, Metadata trailers) {
      if (closed) {
        return;
      }
      closed = true;
      if (status.isOk()) {
        super.close(status, trailers);
        return;
      }
      StatusRuntimeException s = recordOrInternal(status.asRuntimeException(trailers));
      super.close(s.getStatus(), trailers(s));
    }

    void fail(StatusRuntimeException failure) {
      closed = true;
      StatusRuntimeException s = recordOrInternal(failure);
      super.close(s.getStatus(), trailers(s));
    }

    /** Records a failure; the failure itself, or INTERNAL when it cannot be recorded. */
    private StatusRuntimeException recordOrInternal(StatusRuntimeException failure) {
      String reason = reason(failure);
      String outcome = reason.equals(KmsError.ACCESS_DENIED.awsName()) ? "DENIED" : "FAILED";
      try {
        record(outcome, reason);
        return failure;
      } catch (RuntimeException e) {
        return ErrorStatus.of(new KmsException(KmsError.INTERNAL, "the audit log is unavailable"));
      }
    }

    private void record(String outcome, String error) {
      layer.audit(
          new AuditLog.Entry(requestId, principal, method, keyArn, contextKeys, outcome, error));
    }
  }

  private static Metadata trailers(StatusRuntimeException s) {
    return s.getTrailers() == null ? new Metadata() : s.getTrailers();
  }

  private static String reason(StatusRuntimeException e) {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    if (status != null) {
      for (com.google.protobuf.Any any : status.getDetailsList()) {
        if (any.is(ErrorInfo.class)) {
          try {
            return any.unpack(ErrorInfo.class).getReason();
          } catch (com.google.protobuf.InvalidProtocolBufferException ignored) {
            // fall through
          }
        }
      }
    }
    return e.getStatus().getCode().name();
  }
}
