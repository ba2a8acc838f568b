package io.p11kms.hsm.session;

import io.p11kms.hsm.TokenCallInterceptor;
import java.util.concurrent.atomic.LongAdder;
import org.xipki.pkcs11.wrapper.PKCS11Exception;

/**
 * Puts the {@link TokenCallInterceptor} in front of each PKCS#11 function the adapter calls, and
 * counts the calls that make an object (for {@link LibraryRecycling}).
 */
public final class Calls {
  private final TokenCallInterceptor interceptor;
  private final LongAdder objectsMade = new LongAdder();

  Calls(TokenCallInterceptor interceptor) {
    this.interceptor = interceptor == null ? TokenCallInterceptor.NONE : interceptor;
  }

  /**
   * Call right before the PKCS#11 function {@code function}.
   *
   * @throws PKCS11Exception with the code the interceptor chose, as the token would
   */
  public void before(Pkcs11Function function) throws PKCS11Exception {
    objectsMade.add(function.objectsMade());
    long code = interceptor.beforeCall(function.pkcs11Name());
    if (code != 0L) {
      throw new PKCS11Exception(code);
    }
  }

  /** Calls made so far that create an object (two for a key pair), successful or not. */
  long objectsMade() {
    return objectsMade.sum();
  }
}
