package io.p11kms.hsm.session;

import io.p11kms.hsm.PinSource;
import io.p11kms.hsm.domain.DomainKeys;
import java.util.function.Supplier;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11Module;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.Token;

/**
 * Opens and closes the sessions a {@link TokenConnection} uses on its current token: the login
 * session (the user logged in, the domain keys found through it), pooled sessions, and the session
 * the cached backing keys live in. Each PKCS#11 call goes through {@link Calls}.
 */
final class TokenSessions {
  private final Calls calls;
  private final PinSource userPin;
  private final Supplier<Token> token;

  /**
   * @param token the connection's current token (it changes on a reopen or a library recycle)
   */
  TokenSessions(Calls calls, PinSource userPin, Supplier<Token> token) {
    this.calls = calls;
    this.userPin = userPin;
    this.token = token;
  }

  /**
   * Opens a session, logs the user in on it, registers it with {@code pool} and finds the domain
   * keys through it.
   *
   * @return the login session
   */
  Session logInAndScan(SessionPool pool, DomainKeys domainKeys) throws PKCS11Exception {
    calls.before(Pkcs11Function.C_OPEN_SESSION);
    Session session = token.get().openSession(true);
    try {
      calls.before(Pkcs11Function.C_LOGIN);
      UserLogin.logIn(session, userPin);
      pool.register(session);
      domainKeys.scan(session);
    } catch (PKCS11Exception | RuntimeException e) {
      pool.unregister(session);
      SessionPool.closeQuietly(session);
      throw e;
    }
    return session;
  }

  /**
   * Logs the user in again on {@code loginSession} after the login was lost, and finds the domain
   * keys again.
   */
  void logInAgain(Session loginSession, DomainKeys domainKeys) throws PKCS11Exception {
    if (loginSession == null) {
      throw new PKCS11Exception(PKCS11Constants.CKR_SESSION_HANDLE_INVALID);
    }
    calls.before(Pkcs11Function.C_LOGIN);
    UserLogin.logIn(loginSession, userPin);
    domainKeys.scan(loginSession);
  }

  /** A new pooled session; one that is not logged in means the login was lost. */
  Session openPooled() throws PKCS11Exception {
    calls.before(Pkcs11Function.C_OPEN_SESSION);
    Session session = token.get().openSession(true);
    try {
      calls.before(Pkcs11Function.C_GET_SESSION_INFO);
      if (session.getSessionInfo().getState() != PKCS11Constants.CKS_RW_USER_FUNCTIONS) {
        throw new PKCS11Exception(PKCS11Constants.CKR_USER_NOT_LOGGED_IN);
      }
      return session;
    } catch (PKCS11Exception | RuntimeException e) {
      SessionPool.closeQuietly(session);
      throw e;
    }
  }

  /** The session cached backing keys live in; registered so that a handle reuse is noticed. */
  Session openOwned(SessionPool pool) throws PKCS11Exception {
    Session session = openPooled();
    // Throws when the handle is one we already hold (the library was reset); it is not closed
    // then, since that number names a session we know by another object too.
    pool.register(session);
    return session;
  }

  /** Closes every session of this application on the token; the library may know none. */
  void closeAll(PKCS11Module module) {
    try {
      calls.before(Pkcs11Function.C_CLOSE_ALL_SESSIONS);
      module.getPKCS11Module().C_CloseAllSessions(token.get().getSlot().getSlotID());
    } catch (Exception e) {
      // Sessions the library does not know any more are closed already.
    }
  }
}
