package io.p11kms.server.grpc;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import java.util.EnumMap;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where failures become gRPC statuses: a status code plus a {@code
 * google.rpc.ErrorInfo} whose reason is the AWS exception name. Mapped by type, never by message.
 * Anything unexpected becomes a bare INTERNAL with an error id that is also logged: no stack trace
 * and no detail goes on the wire.
 */
public final class ErrorStatus {
  /** The ErrorInfo domain of every error this service returns. */
  public static final String DOMAIN = "p11kms";

  private static final Logger log = LoggerFactory.getLogger(ErrorStatus.class);

  static final Map<KmsError, Code> CODES = new EnumMap<>(KmsError.class);

  static {
    CODES.put(KmsError.NOT_FOUND, Code.NOT_FOUND);
    CODES.put(KmsError.VALIDATION, Code.INVALID_ARGUMENT);
    CODES.put(KmsError.INVALID_MARKER, Code.INVALID_ARGUMENT);
    CODES.put(KmsError.INVALID_CIPHERTEXT, Code.INVALID_ARGUMENT);
    CODES.put(KmsError.INCORRECT_KEY, Code.INVALID_ARGUMENT);
    CODES.put(KmsError.INVALID_KEY_USAGE, Code.INVALID_ARGUMENT);
    CODES.put(KmsError.UNSUPPORTED_OPERATION, Code.UNIMPLEMENTED);
    CODES.put(KmsError.INVALID_SIGNATURE, Code.INVALID_ARGUMENT);
    CODES.put(KmsError.INVALID_MAC, Code.INVALID_ARGUMENT);
    CODES.put(KmsError.DISABLED, Code.FAILED_PRECONDITION);
    CODES.put(KmsError.INVALID_STATE, Code.FAILED_PRECONDITION);
    CODES.put(KmsError.ACCESS_DENIED, Code.PERMISSION_DENIED);
    CODES.put(KmsError.MALFORMED_POLICY, Code.INVALID_ARGUMENT);
    CODES.put(KmsError.LIMIT_EXCEEDED, Code.RESOURCE_EXHAUSTED);
    CODES.put(KmsError.ALREADY_EXISTS, Code.ALREADY_EXISTS);
    CODES.put(KmsError.INVALID_IMPORT_TOKEN, Code.INVALID_ARGUMENT);
    CODES.put(KmsError.EXPIRED_IMPORT_TOKEN, Code.INVALID_ARGUMENT);
    CODES.put(KmsError.INCORRECT_KEY_MATERIAL, Code.INVALID_ARGUMENT);
    CODES.put(KmsError.DEPENDENCY_TIMEOUT, Code.UNAVAILABLE);
    CODES.put(KmsError.INTERNAL, Code.INTERNAL);
  }

  private ErrorStatus() {}

  /** The status for any failure of a call. */
  public static StatusRuntimeException of(Throwable failure) {
    if (failure instanceof KmsException e) {
      return status(e.error(), e.getMessage());
    }
    KmsException internal = internal(failure);
    return status(internal.error(), internal.getMessage());
  }

  /** An unexpected failure as the INTERNAL error callers see: an error id, also logged. */
  static KmsException internal(Throwable failure) {
    String errorId = UUID.randomUUID().toString();
    log.error("internal error {}", errorId, failure);
    return new KmsException(KmsError.INTERNAL, "Internal error " + errorId);
  }

  static StatusRuntimeException status(KmsError error, String message) {
    Code code = CODES.get(error);
    ErrorInfo info = ErrorInfo.newBuilder().setReason(error.awsName()).setDomain(DOMAIN).build();
    com.google.rpc.Status status =
        com.google.rpc.Status.newBuilder()
            .setCode(code.getNumber())
            .setMessage(error.awsName() + ": " + message)
            .addDetails(Any.pack(info))
            .build();
    return StatusProto.toStatusRuntimeException(status);
  }
}
