package io.p11kms.server;

import io.grpc.Context;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Hands each gRPC call from the transport's event loop to the handler pool once, with its request
 * message. The server runs its callbacks on the event loop (gRPC's direct executor), and this
 * interceptor, which runs before every other, queues the call's start (the other interceptors and
 * the handler) and every callback of its listener, in their order, for one handler thread at a
 * time, in the call's context (its deadline and cancellation). Nothing that blocks runs on the
 * event loop: the access check, the store, the token and the audit log all run on the handler
 * thread.
 *
 * <p>For a unary call the request message is asked for here, on the event loop, so that it is read
 * and parsed there as it arrives and reaches the handler thread together with the call's start.
 * With the pool as gRPC's executor, the handler asked for it once started: a hop back to the event
 * loop and a second hand-off to a handler thread on every call.
 */
final class HandlerHandOff implements ServerInterceptor {
  private final Executor pool;

  HandlerHandOff(Executor pool) {
    this.pool = pool;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    Queued<Q> queued = new Queued<>(pool, Context.current(), call);
    if (call.getMethodDescriptor().getType() == MethodType.UNARY) {
      // What gRPC's unary handler asks for once started (two messages: the request, and a second
      // one to refuse), asked for here; its own request, from the handler thread, would be one more
      // task for the event loop and is dropped.
      queued.start(() -> next.startCall(new MessagesAskedFor<>(call), headers));
      call.request(2);
    } else {
      queued.start(() -> next.startCall(call, headers));
    }
    return queued;
  }

  /** A unary call whose messages were asked for already. */
  private static final class MessagesAskedFor<Q, R> extends SimpleForwardingServerCall<Q, R> {
    MessagesAskedFor(ServerCall<Q, R> call) {
      super(call);
    }

    @Override
    public void request(int numMessages) {}
  }

  /**
   * A call's listener whose callbacks run on the pool, one at a time, in the order they came: a
   * queue drained by one pool task while it holds anything.
   */
  private static final class Queued<Q> extends ServerCall.Listener<Q> implements Runnable {
    private final Executor pool;
    private final Context context;
    private final ServerCall<Q, ?> call;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();

    /** Tasks queued and not yet run; the task that takes it from 0 starts the drain. */
    private final AtomicInteger pending = new AtomicInteger();

    // Touched by the draining task only (one at a time, each seeing the previous one's writes).
    private ServerCall.Listener<Q> delegate;
    private boolean failed;

    Queued(Executor pool, Context context, ServerCall<Q, ?> call) {
      this.pool = pool;
      this.context = context;
      this.call = call;
    }

    void start(Supplier<ServerCall.Listener<Q>> start) {
      enqueue(() -> delegate = start.get());
    }

    @Override
    public void onMessage(Q message) {
      enqueue(() -> delegate.onMessage(message));
    }

    @Override
    public void onHalfClose() {
      enqueue(() -> delegate.onHalfClose());
    }

    @Override
    public void onCancel() {
      enqueue(() -> delegate.onCancel());
    }

    @Override
    public void onComplete() {
      enqueue(() -> delegate.onComplete());
    }

    @Override
    public void onReady() {
      enqueue(() -> delegate.onReady());
    }

    private void enqueue(Runnable task) {
      tasks.add(task);
      if (pending.getAndIncrement() == 0) {
        pool.execute(this);
      }
    }

    /** Runs the queued tasks, and those queued meanwhile, in the call's context. */
    @Override
    public void run() {
      Context previous = context.attach();
      try {
        do {
          Runnable task = tasks.poll();
          if (!failed) {
            runOrClose(task);
          }
        } while (pending.decrementAndGet() != 0);
      } finally {
        context.detach(previous);
      }
    }

    /**
     * As gRPC does for a callback that throws: the call ends (UNKNOWN, without the exception's
     * text), and its later callbacks are dropped.
     */
    private void runOrClose(Runnable task) {
      try {
        task.run();
      } catch (RuntimeException | Error e) {
        failed = true;
        try {
          call.close(
              Status.UNKNOWN.withDescription("Application error processing RPC").withCause(e),
              new Metadata());
        } catch (RuntimeException alreadyClosed) {
          // The call had ended already.
        }
      }
    }
  }
}
