package io.p11kms.server.awsjson;

import io.p11kms.server.access.AccessControl;
import io.p11kms.server.access.Caller;
import io.p11kms.server.auth.Principals;
import io.p11kms.server.http.HttpCall;

/**
 * Development mode's authentication, as the gRPC listener's there: every request is {@link
 * Principals#LOCAL}, an administrator of every key, on a plaintext listener on loopback only.
 */
final class DevelopmentModeAuthenticator implements RequestAuthenticator {
  private final Caller local;

  DevelopmentModeAuthenticator(AccessControl control) {
    this.local = control.caller(Principals.LOCAL);
  }

  @Override
  public Caller authenticate(HttpCall request, byte[] body) {
    return local;
  }

  /** Nothing is authenticated: every request on the loopback listener is trusted as it is. */
  @Override
  public boolean covers(HttpCall request, String name) {
    return true;
  }
}
