package io.p11kms.hsm;

/**
 * A seam in front of every PKCS#11 function the adapter calls, so that tests can make chosen calls
 * fail with chosen CKR codes (or take their time) and watch the adapter recover.
 *
 * <p>Production code uses {@link #NONE}. An interceptor runs on the thread that is about to make
 * the call, inside the call's deadline: one that sleeps behaves like a slow token.
 */
@FunctionalInterface
public interface TokenCallInterceptor {

  /** Lets every call through. */
  TokenCallInterceptor NONE = function -> 0L;

  /**
   * Called before the adapter calls {@code function} (its PKCS#11 name, e.g. {@code C_DeriveKey}).
   *
   * @return 0 ({@code CKR_OK}) to make the call; any other CKR code to fail the call with that code
   *     instead, without calling the token
   */
  long beforeCall(String function);
}
