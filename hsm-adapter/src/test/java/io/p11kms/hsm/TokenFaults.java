package io.p11kms.hsm;

import io.p11kms.hsm.session.Pkcs11Modules;
import org.xipki.pkcs11.wrapper.Session;

/**
 * Real faults on a SoftHSM2 token under a running {@link Pkcs11Hsm}, for tests: every session
 * closed, the user logged out, the library finalized (and initialized again). The adapter is not
 * told; it finds out from its next calls, as it would from a real HSM.
 *
 * <p>Each fault is made between two token calls (while no call is in flight): SoftHSM2 frees a
 * session's memory in C_CloseAllSessions, C_Logout and C_Finalize, so a call running at that moment
 * would read freed memory and could crash the JVM. A real HSM's library is expected to answer such
 * a call with an error instead.
 */
public final class TokenFaults {

  /** The faults, in the order a load test rotates through them. */
  public enum Kind {
    CLOSE_ALL_SESSIONS,
    LOG_OUT,
    FINALIZE_AND_INITIALIZE,
    FINALIZE
  }

  private final Pkcs11Hsm hsm;

  public TokenFaults(Pkcs11Hsm hsm) {
    this.hsm = hsm;
  }

  public void inject(Kind kind) throws Exception {
    switch (kind) {
      case CLOSE_ALL_SESSIONS -> closeAllSessions();
      case LOG_OUT -> logOut();
      case FINALIZE_AND_INITIALIZE -> finalizeAndInitialize();
      case FINALIZE -> finalizeLibrary();
    }
  }

  /** C_CloseAllSessions on the token's slot: every session and session object is gone. */
  public void closeAllSessions() throws Exception {
    hsm.exclusiveForTest(
        (module, token) ->
            module.getPKCS11Module().C_CloseAllSessions(token.getSlot().getSlotID()));
  }

  /** C_Logout: the application's login and its private session objects are gone. */
  public void logOut() throws Exception {
    hsm.exclusiveForTest(
        (module, token) -> {
          Session session = token.openSession(false);
          try {
            session.logout();
          } finally {
            session.closeSession();
          }
        });
  }

  /** C_Finalize then C_Initialize: everything is gone, and handles start again from 1. */
  public void finalizeAndInitialize() throws Exception {
    hsm.exclusiveForTest(
        (module, token) -> {
          module.finalize(null);
          Pkcs11Modules.initialize(
              module,
              Pkcs11Modules.initStringOf(
                  java.nio.file.Path.of(
                      ((iaik.pkcs.pkcs11.wrapper.PKCS11Implementation) module.getPKCS11Module())
                          .getPkcs11ModulePath())));
        });
  }

  /** C_Finalize only: every call answers CKR_CRYPTOKI_NOT_INITIALIZED until initialized again. */
  public void finalizeLibrary() throws Exception {
    hsm.exclusiveForTest((module, token) -> module.finalize(null));
  }
}
