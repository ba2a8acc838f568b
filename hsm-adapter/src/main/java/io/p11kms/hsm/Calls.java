package io.p11kms.hsm;

import org.xipki.pkcs11.wrapper.PKCS11Exception;

/** Puts the {@link TokenCallInterceptor} in front of each PKCS#11 function the adapter calls. */
final class Calls {
  private final TokenCallInterceptor interceptor;

  Calls(TokenCallInterceptor interceptor) {
    this.interceptor = interceptor == null ? TokenCallInterceptor.NONE : interceptor;
  }

  /**
   * Call right before the PKCS#11 function {@code function}.
   *
   * @throws PKCS11Exception with the code the interceptor chose, as the token would
   */
  void before(String function) throws PKCS11Exception {
    long code = interceptor.beforeCall(function);
    if (code != 0L) {
      throw new PKCS11Exception(code);
    }
  }
}
