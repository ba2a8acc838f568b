package io.p11kms.server.cli;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.io.PrintStream;

/** Exit codes and error messages of the client, as the AWS CLI prints them. */
final class Calls {
  /** A local problem: bad input, unreadable or unwritable file, tampered file. */
  static final int EXIT_LOCAL = 1;

  /** The service answered with an error (an AWS exception name). */
  static final int EXIT_SERVICE = 254;

  /** The service could not be reached, or failed without an AWS exception. */
  static final int EXIT_CONNECTION = 255;

  private Calls() {}

  /** Prints {@code e} as the AWS CLI would and returns the exit code. */
  static int report(StatusRuntimeException e, String operation, String endpoint, PrintStream err) {
    String reason = null;
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    if (status != null) {
      for (Any any : status.getDetailsList()) {
        if (any.is(ErrorInfo.class)) {
          try {
            reason = any.unpack(ErrorInfo.class).getReason();
          } catch (com.google.protobuf.InvalidProtocolBufferException ignored) {
            // Fall through to the status code.
          }
        }
      }
    }
    String message = e.getStatus().getDescription() == null ? "" : e.getStatus().getDescription();
    if (reason != null) {
      // The server's message starts with the exception name, which the line already gives.
      if (message.startsWith(reason + ": ")) {
        message = message.substring(reason.length() + 2);
      }
      err.println(
          "An error occurred ("
              + reason
              + ") when calling the "
              + operation
              + " operation: "
              + message);
      return EXIT_SERVICE;
    }
    if (e.getStatus().getCode() == Status.Code.UNAVAILABLE
        || e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED) {
      err.println(
          "Could not call "
              + operation
              + " on "
              + endpoint
              + ": "
              + e.getStatus().getCode()
              + (message.isEmpty() ? "" : " (" + message + ")"));
      return EXIT_CONNECTION;
    }
    err.println(
        "An error occurred ("
            + e.getStatus().getCode()
            + ") when calling the "
            + operation
            + " operation: "
            + message);
    return EXIT_CONNECTION;
  }
}
