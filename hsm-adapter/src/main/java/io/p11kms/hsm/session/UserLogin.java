package io.p11kms.hsm.session;

import io.p11kms.hsm.PinSource;
import java.util.Arrays;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/** The user's login, the one place the adapter reads the user PIN. */
final class UserLogin {
  private UserLogin() {}

  /** Logs in as the user, tolerating a login this application already holds; wipes the PIN. */
  static void logIn(Session session, PinSource pinSource) throws PKCS11Exception {
    char[] pin = pinSource.read();
    try {
      session.login(PKCS11Constants.CKU_USER, pin);
    } catch (PKCS11Exception e) {
      if (e.getErrorCode() != PKCS11Constants.CKR_USER_ALREADY_LOGGED_IN) {
        throw e;
      }
    } finally {
      Arrays.fill(pin, '\0');
    }
  }
}
