package io.p11kms.hsm;

import io.p11kms.hsm.domain.DomainKeyRole;
import io.p11kms.hsm.session.Pkcs11Modules;
import io.p11kms.hsm.session.TokenFinder;
import java.util.ArrayList;
import java.util.List;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11Module;
import org.xipki.pkcs11.wrapper.Session;

/**
 * A raw PKCS#11 session on a token, logged in as the user: what an attacker holding the user PIN
 * (or running code in the server's process) has, for tests that replay PKCS#11 API attacks. No
 * adapter, no recovery: every call is the attacker's own.
 */
public final class AttackerSession implements AutoCloseable {
  private final HsmConfig config;
  private final Session session;

  private AttackerSession(HsmConfig config, Session session) {
    this.config = config;
    this.session = session;
  }

  /** Opens a read-write session on {@code config}'s token and logs the user in with its PIN. */
  public static AttackerSession open(HsmConfig config) throws PKCS11Exception {
    PKCS11Module module = Pkcs11Modules.acquire(config);
    Session session = null;
    try {
      session = TokenFinder.byLabel(module, config.tokenLabel()).openSession(true);
      char[] pin = config.userPin().read();
      try {
        session.login(PKCS11Constants.CKU_USER, pin);
      } catch (PKCS11Exception e) {
        if (e.getErrorCode() != PKCS11Constants.CKR_USER_ALREADY_LOGGED_IN) {
          throw e;
        }
      } finally {
        java.util.Arrays.fill(pin, '\0');
      }
      return new AttackerSession(config, session);
    } catch (PKCS11Exception | RuntimeException e) {
      if (session != null) {
        session.closeSession();
      }
      Pkcs11Modules.release(config.modulePath());
      throw e;
    }
  }

  public Session session() {
    return session;
  }

  /** The handle of the domain key of {@code role} and {@code generation}, found by its label. */
  public long domainKey(DomainKeyRole role, int generation) throws PKCS11Exception {
    long[] found =
        session.findObjectsSingle(
            new AttributeVector()
                .class_(PKCS11Constants.CKO_SECRET_KEY)
                .label(role.label(generation)),
            2);
    if (found.length != 1) {
      throw new IllegalStateException(found.length + " keys labelled " + role.label(generation));
    }
    return found[0];
  }

  /** Every domain key on the token (every role, every generation). */
  public List<Long> domainKeys() throws PKCS11Exception {
    List<Long> keys = new ArrayList<>();
    for (long object :
        session.findAllObjectsSingle(
            new AttributeVector().class_(PKCS11Constants.CKO_SECRET_KEY).token(true))) {
      String label = session.getStringAttrValue(object, PKCS11Constants.CKA_LABEL);
      if (DomainKeyRole.of(label).isPresent()) {
        keys.add(object);
      }
    }
    return keys;
  }

  @Override
  public void close() {
    try {
      session.closeSession();
    } catch (PKCS11Exception e) {
      // Nothing to undo.
    } finally {
      Pkcs11Modules.release(config.modulePath());
    }
  }
}
