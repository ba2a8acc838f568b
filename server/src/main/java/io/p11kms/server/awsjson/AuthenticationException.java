package io.p11kms.server.awsjson;

/**
 * A request that does not authenticate: the AWS exception name to return ({@code
 * InvalidSignatureException}, {@code UnrecognizedClientException}, {@code
 * IncompleteSignatureException}, {@code AccessDeniedException}...), a message that names the rule
 * and never a secret, and who the request claimed to come from, for the audit record.
 */
public final class AuthenticationException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String awsName;
  private final String claimant;

  /**
   * @param claimant who the request claims to come from (an access key id), or empty
   */
  public AuthenticationException(String awsName, String message, String claimant) {
    super(message, null, false, false);
    this.awsName = awsName;
    this.claimant = claimant == null ? "" : claimant;
  }

  public String awsName() {
    return awsName;
  }

  public String claimant() {
    return claimant;
  }
}
