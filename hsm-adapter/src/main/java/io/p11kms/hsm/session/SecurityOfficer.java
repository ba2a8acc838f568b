package io.p11kms.hsm.session;

import java.nio.file.Path;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11Module;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.Token;

/**
 * A piece of work in a read-write session logged in as the token's security officer, or in a public
 * session that needs no login.
 */
public final class SecurityOfficer {
  private SecurityOfficer() {}

  public interface Work<T> {
    T run(Token token, Session session) throws PKCS11Exception;
  }

  /** Finds objects in a session. */
  public interface Finder {
    long[] find(Session session) throws PKCS11Exception;
  }

  /** Runs {@code work} in a read-write session logged in as SO; logs out and releases after. */
  public static <T> T run(
      Path modulePath, String tokenLabel, char[] soPin, String step, Work<T> work) {
    if (modulePath == null || tokenLabel == null || soPin == null) {
      throw new IllegalArgumentException("module path, token label and SO PIN are required");
    }
    return inSession(
        modulePath,
        tokenLabel,
        true,
        step,
        (token, session) -> {
          session.login(PKCS11Constants.CKU_SO, soPin);
          try {
            return work.run(token, session);
          } finally {
            try {
              session.logout();
            } catch (PKCS11Exception e) {
              // The session is closed next; the login goes with it.
            }
          }
        });
  }

  /**
   * Runs {@code work} in a read-only public session (no login): what anyone may read of the token,
   * such as its public objects; releases after.
   */
  public static <T> T readPublic(Path modulePath, String tokenLabel, String step, Work<T> work) {
    if (modulePath == null || tokenLabel == null) {
      throw new IllegalArgumentException("module path and token label are required");
    }
    return inSession(modulePath, tokenLabel, false, step, work);
  }

  /**
   * Destroys, in a session logged in as SO, every object {@code finder} finds.
   *
   * @return whether it found one
   */
  public static boolean destroyAll(
      Path modulePath, String tokenLabel, char[] soPin, String step, Finder finder) {
    return run(
        modulePath,
        tokenLabel,
        soPin,
        step,
        (token, session) -> {
          long[] found = finder.find(session);
          for (long handle : found) {
            session.destroyObject(handle);
          }
          return found.length > 0;
        });
  }

  /** Runs {@code work} in a new session on the token, closes it and releases the module after. */
  private static <T> T inSession(
      Path modulePath, String tokenLabel, boolean readWrite, String step, Work<T> work) {
    PKCS11Module module = Pkcs11Modules.acquire(modulePath);
    try {
      Token token = TokenFinder.byLabel(module, tokenLabel);
      Session session = token.openSession(readWrite);
      try {
        return work.run(token, session);
      } finally {
        closeQuietly(session);
      }
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map(step, e);
    } finally {
      Pkcs11Modules.release(modulePath);
    }
  }

  public static void closeQuietly(Session session) {
    try {
      session.closeSession();
    } catch (PKCS11Exception e) {
      // Nothing to undo.
    }
  }
}
