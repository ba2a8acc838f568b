package io.p11kms.server.sigv4;

import java.util.Optional;

/**
 * A request that failed authentication. The message is AWS's wording for the failure, safe to send
 * to the caller: it never carries a secret, a signing key or a computed signature.
 */
public final class SigV4Exception extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final SigV4Failure failure;
  private final String accessKeyId;

  SigV4Exception(SigV4Failure failure, String message, String accessKeyIdOrNull) {
    // No stack trace: a refusal is an answer, not a fault, and refusals can come by the thousand.
    super(message, null, false, false);
    this.failure = failure;
    this.accessKeyId = accessKeyIdOrNull;
  }

  SigV4Exception(SigV4Failure failure, String message) {
    this(failure, message, null);
  }

  /** Which AWS exception this is. */
  public SigV4Failure failure() {
    return failure;
  }

  /** The AWS exception name ({@link SigV4Failure#awsName()}). */
  public String awsName() {
    return failure.awsName();
  }

  /**
   * The access key id the request named, for the audit record, once the Authorization header was
   * parsed far enough to name one (an unknown id included).
   */
  public Optional<String> accessKeyId() {
    return Optional.ofNullable(accessKeyId);
  }

  SigV4Exception naming(String id) {
    return accessKeyId != null || id == null ? this : new SigV4Exception(failure, getMessage(), id);
  }
}
