package io.p11kms.server.awsjson;

import io.p11kms.server.access.Caller;
import io.p11kms.server.http.HttpCall;

/** Who sent a request of the JSON API: its principal and account, from the request and its body. */
public interface RequestAuthenticator {
  /**
   * @param body the request body, as received
   * @return the caller the request is authenticated as
   * @throws AuthenticationException when it is not, with the AWS exception name to return
   */
  Caller authenticate(HttpCall request, byte[] body);

  /**
   * Whether the authentication of {@code request} (authenticated already) covers the header {@code
   * name} (lower case), so that its value comes from the caller. None, unless said otherwise.
   */
  default boolean covers(HttpCall request, String name) {
    return false;
  }
}
