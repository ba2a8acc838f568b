package io.p11kms.server.awsjson;

import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import java.util.List;
import java.util.Map;

/**
 * Absent request members as the service takes them: an absent string, map or list is empty, as in
 * the gRPC front end; an absent number stays null (the service's default).
 */
final class Members {
  private Members() {}

  static String orEmpty(String value) {
    return value == null ? "" : value;
  }

  static <K, V> Map<K, V> orEmpty(Map<K, V> value) {
    return value == null ? Map.of() : value;
  }

  static <T> List<T> orEmpty(List<T> value) {
    return value == null ? List.of() : value;
  }

  static byte[] orEmpty(byte[] value) {
    return value == null ? new byte[0] : value;
  }

  /** Null for an empty list: the member is left out of a response, as AWS leaves it out. */
  static <T> List<T> orNull(List<T> value) {
    return value.isEmpty() ? null : value;
  }

  /**
   * DryRun: this service has no dry runs, so a request asking for one is refused rather than
   * carried out.
   */
  static void refuseDryRun(Boolean dryRun) {
    if (Boolean.TRUE.equals(dryRun)) {
      throw new KmsException(KmsError.UNSUPPORTED_OPERATION, "DryRun is not supported");
    }
  }
}
