package io.p11kms.server.access;

import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import java.util.List;

/**
 * AWS's limits on a request's {@code GrantTokens}: at most 10, each 1-8192 characters; otherwise
 * {@code ValidationException}, before anything else runs. The tokens are not otherwise used: a
 * grant here takes effect the moment CreateGrant returns, on every server of the store, so there is
 * no eventual consistency for a token to bridge.
 */
final class GrantTokens {
  static final int MAX_TOKENS = 10;
  static final int MAX_LENGTH = 8192;

  private GrantTokens() {}

  /**
   * @throws KmsException {@code ValidationException} when a request carries grant tokens beyond
   *     AWS's limits
   */
  static void check(List<String> tokens) {
    if (tokens.size() > MAX_TOKENS) {
      throw invalid("Member must have length less than or equal to " + MAX_TOKENS);
    }
    for (int i = 0; i < tokens.size(); i++) {
      int length = tokens.get(i).length();
      if (length < 1 || length > MAX_LENGTH) {
        throw invalid("each member must be 1-" + MAX_LENGTH + " characters long");
      }
    }
  }

  private static KmsException invalid(String rule) {
    return new KmsException(
        KmsError.VALIDATION,
        "1 validation error detected: Value at 'grantTokens' failed to satisfy constraint: "
            + rule);
  }
}
