package io.p11kms.server.grpc;

import com.google.protobuf.Message;
import com.google.rpc.ErrorInfo;
import io.grpc.Context;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.p11kms.proto.v1.CreateKeyResponse;
import io.p11kms.server.access.AccessControl;
import io.p11kms.server.access.AuthorizedCall;
import io.p11kms.server.access.Caller;
import io.p11kms.server.access.OperationRequest;
import io.p11kms.server.audit.AuditException;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.service.KeyLookup;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.service.Operation;

/**
 * Every KMS call passes through {@link AccessControl} here, as its principal ({@link
 * PrincipalInterceptor#principal}): the message becomes the service's {@link OperationRequest}
 * ({@link ProtoRequest}) and is authorised before the handler runs (so before any token call); the
 * call is recorded once it ends, allowed, denied or failed. A call that could not be recorded fails
 * with {@code KMSInternalException} (INTERNAL) before it has any effect; should the write itself
 * fail after that check, the call still fails with INTERNAL and, when it had succeeded, its
 * response is not sent.
 */
final class AccessInterceptor implements ServerInterceptor {
  private final AccessControl control;

  AccessInterceptor(AccessControl control) {
    this.control = control;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String principal = PrincipalInterceptor.principal(call, control.tls());
    if (principal == null) {
      PrincipalInterceptor.refuse(call);
      return new ServerCall.Listener<>() {};
    }
    String requestId = RequestIds.currentOrNew();
    Operation op = Operation.byName(call.getMethodDescriptor().getBareMethodName());
    if (op == null) {
      // Every method of the KMS service is an operation of the catalogue; this is none.
      call.close(Status.UNIMPLEMENTED, new Metadata());
      return new ServerCall.Listener<>() {};
    }
    Caller caller = control.caller(principal);
    boolean malformed = false;
    try {
      caller =
          control.actingFor(caller, headers.get(ON_BEHALF_OF), headers.get(ON_BEHALF_OF_ACCOUNT));
    } catch (KmsException e) {
      // The caller acts for itself; the call is refused once its message is read (audited).
      malformed = true;
    }
    AuthorizedCall access = control.start(caller, requestId, op, null);
    Audited<Q, R> audited = new Audited<>(call, op, access);
    // The handler behind this interceptor sees the call's principal and request id, and the key
    // reads of the access check are the handler's too (RequestLookups). One context for all of
    // them, attached once per callback: each context of its own cost an attach and a detach on
    // every callback of every call.
    KeyLookup lookup = control.lookup(caller);
    Context context =
        RequestLookups.with(
            RequestIds.with(PrincipalInterceptor.with(Context.current(), principal), requestId),
            lookup,
            caller);
    context = BatchItemAccess.with(context, new BatchItemAccess(control, caller, requestId));
    Context previous = context.attach();
    ServerCall.Listener<Q> delegate;
    try {
      delegate = next.startCall(audited, headers);
    } finally {
      context.detach(previous);
    }
    return new Checked<>(delegate, context, op, audited, access, lookup, malformed);
  }

  /**
   * The handler's listener behind the access check: each callback runs in the call's context, and
   * the message reaches the handler only once it was authorised.
   */
  private static final class Checked<Q, R> extends ServerCall.Listener<Q> {
    private final ServerCall.Listener<Q> delegate;
    private final Context context;
    private final Operation op;
    private final Audited<Q, R> audited;
    private final AuthorizedCall access;
    private final KeyLookup lookup;
    private final boolean refused;
    private boolean rejected;

    Checked(
        ServerCall.Listener<Q> delegate,
        Context context,
        Operation op,
        Audited<Q, R> audited,
        AuthorizedCall access,
        KeyLookup lookup,
        boolean refused) {
      this.delegate = delegate;
      this.context = context;
      this.op = op;
      this.audited = audited;
      this.access = access;
      this.lookup = lookup;
      this.refused = refused;
    }

    @Override
    public void onMessage(Q message) {
      Context previous = context.attach();
      try {
        try {
          audited.request = new ProtoRequest(op, (Message) message);
          if (refused) {
            throw new KmsException(
                KmsError.VALIDATION,
                ON_BEHALF_OF_ACCOUNT.name()
                    + " must be a 12-digit account id, with "
                    + ON_BEHALF_OF.name());
          }
          access.authorize(audited.request, lookup);
        } catch (RuntimeException e) {
          rejected = true;
          audited.fail(ErrorStatus.of(e));
          return;
        }
        delegate.onMessage(message);
      } finally {
        context.detach(previous);
      }
    }

    @Override
    public void onHalfClose() {
      if (rejected) {
        return;
      }
      Context previous = context.attach();
      try {
        delegate.onHalfClose();
      } finally {
        context.detach(previous);
      }
    }

    @Override
    public void onCancel() {
      Context previous = context.attach();
      try {
        delegate.onCancel();
      } finally {
        context.detach(previous);
      }
    }

    @Override
    public void onComplete() {
      Context previous = context.attach();
      try {
        delegate.onComplete();
      } finally {
        context.detach(previous);
      }
    }

    @Override
    public void onReady() {
      Context previous = context.attach();
      try {
        delegate.onReady();
      } finally {
        context.detach(previous);
      }
    }
  }

  /**
   * A registered service acting for a customer names the customer's principal in {@link
   * #ON_BEHALF_OF} (and, when its name gives none, the account in {@link #ON_BEHALF_OF_ACCOUNT});
   * whether the caller may is the service's to decide.
   */
  static final Metadata.Key<String> ON_BEHALF_OF =
      Metadata.Key.of(Caller.ON_BEHALF_OF_HEADER, Metadata.ASCII_STRING_MARSHALLER);

  static final Metadata.Key<String> ON_BEHALF_OF_ACCOUNT =
      Metadata.Key.of(Caller.ON_BEHALF_OF_ACCOUNT_HEADER, Metadata.ASCII_STRING_MARSHALLER);

  private static final class Audited<Q, R> extends SimpleForwardingServerCall<Q, R> {
    private final Operation op;
    private final AuthorizedCall access;
    OperationRequest request;
    private boolean closed;

    Audited(ServerCall<Q, R> call, Operation op, AuthorizedCall access) {
      super(call);
      this.op = op;
      this.access = access;
    }

    @Override
    public void sendMessage(R message) {
      if (closed) {
        return;
      }
      try {
        access.succeeded(
            op == Operation.CREATE_KEY
                ? KeyArns.parseKeyId(((CreateKeyResponse) message).getKeyMetadata().getKeyId())
                    .orElseThrow()
                : null,
            request);
      } catch (RuntimeException e) {
        StatusRuntimeException s = ErrorStatus.of(e);
        closed = true;
        if (!(e instanceof AuditException)) {
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
      try {
        access.failed(reason(failure));
        return failure;
      } catch (RuntimeException e) {
        return ErrorStatus.of(new KmsException(KmsError.INTERNAL, "the audit log is unavailable"));
      }
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
