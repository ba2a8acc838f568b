package io.p11kms.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ErrorStatusTest {
  /** The table callers depend on: AWS exception name -> gRPC status code. */
  private static final Map<String, Status.Code> EXPECTED =
      Map.ofEntries(
          Map.entry("NotFoundException", Status.Code.NOT_FOUND),
          Map.entry("ValidationException", Status.Code.INVALID_ARGUMENT),
          Map.entry("InvalidMarkerException", Status.Code.INVALID_ARGUMENT),
          Map.entry("InvalidCiphertextException", Status.Code.INVALID_ARGUMENT),
          Map.entry("IncorrectKeyException", Status.Code.INVALID_ARGUMENT),
          Map.entry("InvalidKeyUsageException", Status.Code.INVALID_ARGUMENT),
          Map.entry("UnsupportedOperationException", Status.Code.UNIMPLEMENTED),
          Map.entry("KMSInvalidSignatureException", Status.Code.INVALID_ARGUMENT),
          Map.entry("KMSInvalidMacException", Status.Code.INVALID_ARGUMENT),
          Map.entry("DisabledException", Status.Code.FAILED_PRECONDITION),
          Map.entry("KMSInvalidStateException", Status.Code.FAILED_PRECONDITION),
          Map.entry("AccessDeniedException", Status.Code.PERMISSION_DENIED),
          Map.entry("MalformedPolicyDocumentException", Status.Code.INVALID_ARGUMENT),
          Map.entry("LimitExceededException", Status.Code.RESOURCE_EXHAUSTED),
          Map.entry("AlreadyExistsException", Status.Code.ALREADY_EXISTS),
          Map.entry("InvalidImportTokenException", Status.Code.INVALID_ARGUMENT),
          Map.entry("ExpiredImportTokenException", Status.Code.INVALID_ARGUMENT),
          Map.entry("IncorrectKeyMaterialException", Status.Code.INVALID_ARGUMENT),
          Map.entry("DependencyTimeoutException", Status.Code.UNAVAILABLE),
          Map.entry("KMSInternalException", Status.Code.INTERNAL));

  @ParameterizedTest
  @EnumSource(KmsError.class)
  void everyError_mapsToItsStatus_withTheAwsNameAsReason(KmsError error) throws Exception {
    StatusRuntimeException status = ErrorStatus.of(new KmsException(error, "the message"));

    assertThat(EXPECTED).containsKey(error.awsName());
    assertThat(status.getStatus().getCode()).isEqualTo(EXPECTED.get(error.awsName()));
    com.google.rpc.Status details = StatusProto.fromThrowable(status);
    ErrorInfo info = details.getDetails(0).unpack(ErrorInfo.class);
    assertThat(info.getReason()).isEqualTo(error.awsName());
    assertThat(info.getDomain()).isEqualTo(ErrorStatus.DOMAIN);
    assertThat(details.getMessage()).isEqualTo(error.awsName() + ": the message");
  }

  @Test
  void everyAwsNameInTheTable_isAnError() {
    assertThat(KmsError.values()).hasSameSizeAs(EXPECTED.keySet());
  }

  @Test
  void unexpectedFailure_isABareInternal_withoutItsMessage() throws Exception {
    StatusRuntimeException status =
        ErrorStatus.of(new IllegalStateException("secret detail at Foo.java:12"));

    assertThat(status.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
    com.google.rpc.Status details = StatusProto.fromThrowable(status);
    assertThat(details.getMessage()).startsWith("KMSInternalException: Internal error ");
    assertThat(details.getMessage()).doesNotContain("secret", "Foo.java");
    assertThat(details.getDetails(0).unpack(ErrorInfo.class).getReason())
        .isEqualTo("KMSInternalException");
  }
}
