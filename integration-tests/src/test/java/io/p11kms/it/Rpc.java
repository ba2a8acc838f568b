package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Assertions on the errors the server sends. */
final class Rpc {
  private Rpc() {}

  /** A failed call as the client sees it: status code, AWS exception name, message. */
  record Failure(Status.Code code, String reason, String message) {}

  static Failure failure(ThrowingCallable call) {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call);
    assertThat(e).as("the call should have failed").isNotNull();
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    assertThat(status).as("the error carries google.rpc.Status details").isNotNull();
    ErrorInfo info =
        status.getDetailsList().stream()
            .filter(any -> any.is(ErrorInfo.class))
            .map(Rpc::unpack)
            .findFirst()
            .orElseThrow(() -> new AssertionError("no ErrorInfo in " + status));
    assertThat(info.getDomain()).isEqualTo("p11kms");
    return new Failure(e.getStatus().getCode(), info.getReason(), status.getMessage());
  }

  static void assertFails(ThrowingCallable call, Status.Code code, String awsException) {
    Failure failure = failure(call);
    assertThat(failure.code()).isEqualTo(code);
    assertThat(failure.reason()).isEqualTo(awsException);
    assertThat(failure.message()).doesNotContain("\tat ", ".java:", "io.p11kms.");
  }

  private static ErrorInfo unpack(com.google.protobuf.Any any) {
    try {
      return any.unpack(ErrorInfo.class);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }
}
