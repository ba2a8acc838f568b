package io.p11kms.server.awsjson;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.service.UnexpectedFailures;

/**
 * A failure as AWS's JSON 1.1 protocol returns it: {@code {"__type": <AWS exception name>,
 * "message": ...}}, HTTP 500 for {@code KMSInternalException} and {@code
 * DependencyTimeoutException}, 400 for every other. Anything unexpected becomes a {@code
 * KMSInternalException} naming an error id that is logged with the detail: never a stack trace.
 */
record WireError(
    @JsonIgnore int status,
    @JsonProperty("__type") String type,
    @JsonProperty("message") String message) {

  static WireError of(Throwable failure) {
    if (failure instanceof KmsException e) {
      return new WireError(status(e.error()), e.error().awsName(), e.getMessage());
    }
    if (failure instanceof WireException e) {
      return new WireError(400, e.awsName(), e.getMessage());
    }
    if (failure instanceof AuthenticationException e) {
      return new WireError(400, e.awsName(), e.getMessage());
    }
    return of(UnexpectedFailures.report(failure));
  }

  static int status(KmsError error) {
    return error == KmsError.INTERNAL || error == KmsError.DEPENDENCY_TIMEOUT ? 500 : 400;
  }
}
