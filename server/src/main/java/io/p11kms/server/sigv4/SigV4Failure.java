package io.p11kms.server.sigv4;

/**
 * Why a request failed authentication, by the AWS exception name a front end puts on the wire. The
 * JSON API sends {@link #awsName()} as {@code __type} with HTTP 400; the XKS proxy API sends every
 * one of them as {@code AuthenticationFailedException} (401).
 */
public enum SigV4Failure {
  /** No Authorization header, or one that is not AWS Signature Version 4. */
  MISSING_AUTHENTICATION_TOKEN("MissingAuthenticationTokenException"),
  /** An Authorization header or date that lacks a part or cannot be parsed. */
  INCOMPLETE_SIGNATURE("IncompleteSignatureException"),
  /**
   * A wrong signature; a date more than five minutes from the server's clock; a credential scope of
   * another region, service or date; the host not signed.
   */
  INVALID_SIGNATURE("InvalidSignatureException"),
  /** An access key id that is unknown, disabled, or not for this front end; a session token. */
  UNRECOGNIZED_CLIENT("UnrecognizedClientException");

  private final String awsName;

  SigV4Failure(String awsName) {
    this.awsName = awsName;
  }

  /** The AWS exception name, for example {@code InvalidSignatureException}. */
  public String awsName() {
    return awsName;
  }
}
