package io.p11kms.server.sigv4;

import io.p11kms.server.access.Caller;

/**
 * Who signed a request: the access key id it was signed with, and the caller (principal and
 * account) that access key was made for, as the front end hands it to {@link
 * io.p11kms.server.access.AccessControl}.
 *
 * @param accessKeyId for example {@code AKIA...}
 * @param caller the access key's principal and account
 */
public record AccessKeyCaller(String accessKeyId, Caller caller) {
  public AccessKeyCaller {
    if (accessKeyId == null || caller == null) {
      throw new IllegalArgumentException("an access key caller needs an id and a caller");
    }
  }
}
