package io.p11kms.server.awsjson;

import org.eclipse.jetty.server.Request;

/** Who sent a request of the JSON API: its principal, from the request and its body. */
public interface RequestAuthenticator {
  /**
   * @param body the request body, as received
   * @return the principal the request is authenticated as
   * @throws AuthenticationException when it is not, with the AWS exception name to return
   */
  String authenticate(Request request, byte[] body);
}
