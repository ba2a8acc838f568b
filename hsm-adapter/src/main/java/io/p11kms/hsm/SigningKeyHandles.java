package io.p11kms.hsm;

import io.p11kms.hsm.keys.PrivateKeyTemplates;
import io.p11kms.hsm.session.Calls;
import io.p11kms.hsm.session.Pkcs11Function;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/**
 * The handles of the service's signing keys (HMAC-SHA256 token objects found by label), searched
 * for at most once a second rather than before every signature.
 *
 * <p>Why: SoftHSM2 answers a search by visiting every object the token and its sessions hold, the
 * backing key cache's session objects included (18,000 by default): with the cache full one search
 * takes milliseconds of a token worker, and the audit log signs a checkpoint every 1,000 records
 * (ten times a second at 10,000 requests a second).
 *
 * <p>The search insists on exactly one key with the label, so that a second key made as the first
 * (by whoever holds the user PIN) makes signing fail rather than pick one: within {@link
 * #REUSE_NANOS} of it. Meanwhile the key found is the one used. A handle is good only in the
 * library instance and login it was found in: the connection's epoch moves on with each (a recycle,
 * a reopen), and a handle of another epoch is searched for again. Each reuse first reads the
 * handle's label and CKA_SIGN back (one cheap call): a key destroyed and made again, or a handle a
 * token gave to another object, is searched for again rather than used.
 */
final class SigningKeyHandles {
  /** How long a search's answer is used: a second key with the label fails signing after this. */
  static final long REUSE_NANOS = 1_000_000_000L;

  private record Found(long epoch, long handle, long atNanos) {}

  private final Map<String, Found> found = new ConcurrentHashMap<>();
  private final Calls calls;
  private final boolean marksGeneratedKeysLocal;

  SigningKeyHandles(Calls calls, boolean marksGeneratedKeysLocal) {
    this.calls = calls;
    this.marksGeneratedKeysLocal = marksGeneratedKeysLocal;
  }

  /**
   * The handle of the one signing key labelled {@code label}, in {@code session} of the connection
   * epoch {@code epoch}.
   *
   * @throws HsmException when the token holds none or more than one
   */
  long handle(Session session, String label, long epoch) throws PKCS11Exception {
    Found known = found.get(label);
    long now = System.nanoTime();
    if (known != null
        && known.epoch() == epoch
        && now - known.atNanos() < REUSE_NANOS
        && stillNames(session, known.handle(), label)) {
      return known.handle();
    }
    calls.before(Pkcs11Function.C_FIND_OBJECTS);
    long[] handles =
        session.findObjectsSingle(
            PrivateKeyTemplates.signingKeyByLabel(label, marksGeneratedKeysLocal), 2);
    if (handles.length != 1) {
      found.remove(label);
      throw new HsmException(
          handles.length + " signing keys labelled " + label + " on the token; need one");
    }
    found.put(label, new Found(epoch, handles[0], now));
    return handles[0];
  }

  /** Whether {@code handle} still names a key labelled {@code label} that may sign. */
  private boolean stillNames(Session session, long handle, String label) {
    try {
      calls.before(Pkcs11Function.C_GET_ATTRIBUTE_VALUE);
      AttributeVector attributes =
          session.getAttrValues(handle, PKCS11Constants.CKA_LABEL, PKCS11Constants.CKA_SIGN);
      return label.equals(attributes.label()) && Boolean.TRUE.equals(attributes.sign());
    } catch (PKCS11Exception e) {
      // CKR_OBJECT_HANDLE_INVALID above all: the key is gone. The search tells what is there now.
      return false;
    }
  }
}
