package io.p11kms.server.cli;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Exit codes and error messages of the client, as the AWS CLI prints them. */
final class Calls {
  /** A local problem: bad input, unreadable or unwritable file, tampered file. */
  static final int EXIT_LOCAL = 1;

  /** The service answered with an error (an AWS exception name). */
  static final int EXIT_SERVICE = 254;

  /** The service could not be reached, or failed without an AWS exception. */
  static final int EXIT_CONNECTION = 255;

  /** The service's answer to a ciphertext it cannot decrypt (tampered, or the wrong context). */
  static final String INVALID_CIPHERTEXT = "InvalidCiphertextException";

  private Calls() {}

  /** Why {@code path} cannot be read as an input file, or null when it is a regular file. */
  static String notAnInputFile(Path path) {
    if (Files.isRegularFile(path)) {
      return null;
    }
    return (Files.exists(path) ? "not a file: " : "no such file: ") + path;
  }

  /** The AWS exception name the service answered with, or null when there is none. */
  static String reason(StatusRuntimeException e) {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    if (status != null) {
      for (Any any : status.getDetailsList()) {
        if (any.is(ErrorInfo.class)) {
          try {
            return any.unpack(ErrorInfo.class).getReason();
          } catch (com.google.protobuf.InvalidProtocolBufferException ignored) {
            // Fall through to the status code.
          }
        }
      }
    }
    return null;
  }

  /**
   * What went wrong with a file, in words ("no such file: PATH"): the JDK's file exceptions carry
   * only the path as their message. {@code path} names the file when the exception does not.
   */
  static String describe(IOException e, Path path) {
    String file = e instanceof FileSystemException f && f.getFile() != null ? f.getFile() : null;
    if (file == null) {
      file = path == null ? "" : path.toString();
    }
    if (e instanceof NoSuchFileException) {
      return "no such file: " + file;
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied: " + file;
    }
    if (e instanceof FileAlreadyExistsException) {
      return file + " exists; not overwritten";
    }
    if (e instanceof FileSystemException f && f.getReason() != null) {
      return f.getReason() + ": " + file;
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  /** Prints {@code e} as the AWS CLI would and returns the exit code. */
  static int report(StatusRuntimeException e, String operation, String endpoint, PrintStream err) {
    String reason = reason(e);
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
