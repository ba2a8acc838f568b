package io.p11kms.server.sigv4;

/**
 * Who signed a request: the access key's id, the principal it was made for, and the principal's
 * account.
 *
 * @param accessKeyId the id the request was signed with, for example {@code AKIA...}
 * @param principal the principal key policies name, for example {@code
 *     arn:aws:iam::111122223333:user/alice}
 * @param accountId the principal's 12-digit account
 */
public record Caller(String accessKeyId, String principal, String accountId) {
  public Caller {
    if (accessKeyId == null || principal == null || accountId == null) {
      throw new IllegalArgumentException("a caller needs an access key id, principal and account");
    }
  }
}
