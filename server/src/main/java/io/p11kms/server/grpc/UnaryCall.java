package io.p11kms.server.grpc;

import io.grpc.stub.StreamObserver;
import io.p11kms.hsm.InlineTokenCalls;
import io.p11kms.server.service.KmsException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * Answers a unary call exactly once, with the handler's result or failure. With {@link #inline} the
 * handler's token calls run on its own thread, and a token call that passes its deadline answers
 * the call from a token worker with {@code DependencyTimeoutException}, while the handler's thread
 * is still in the native call; what the handler returns after that is dropped.
 */
final class UnaryCall<T> {
  private final StreamObserver<T> response;
  private final AtomicBoolean answered = new AtomicBoolean();

  private UnaryCall(StreamObserver<T> response) {
    this.response = response;
  }

  /**
   * For a call of one operation: its token calls run on this thread ({@link InlineTokenCalls}),
   * saving two thread hand-offs each.
   */
  static <T> void inline(StreamObserver<T> response, Supplier<T> handler) {
    UnaryCall<T> call = new UnaryCall<>(response);
    T result;
    try {
      result = InlineTokenCalls.run(() -> call.fail(KmsException.dependencyTimeout()), handler);
    } catch (RuntimeException e) {
      call.fail(e);
      return;
    }
    call.succeed(result);
  }

  /**
   * For a call whose token calls, if any, run on token workers: a batch, whose items time out one
   * by one, each with its own error, while the batch goes on.
   */
  static <T> void onWorkers(StreamObserver<T> response, Supplier<T> handler) {
    UnaryCall<T> call = new UnaryCall<>(response);
    T result;
    try {
      result = handler.get();
    } catch (RuntimeException e) {
      call.fail(e);
      return;
    }
    call.succeed(result);
  }

  private void succeed(T result) {
    if (answered.compareAndSet(false, true)) {
      response.onNext(result);
      response.onCompleted();
    }
  }

  private void fail(RuntimeException failure) {
    if (answered.compareAndSet(false, true)) {
      response.onError(ErrorStatus.of(failure));
    }
  }
}
