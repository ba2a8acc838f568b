package io.p11kms.hsm;

import io.p11kms.hsm.keys.PrivateKeyTemplates;
import io.p11kms.hsm.keys.TemplateMatch;
import io.p11kms.hsm.session.Calls;
import io.p11kms.hsm.session.Pkcs11Function;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/**
 * The handles of the service's signing keys (HMAC-SHA256 token objects found by label), searched
 * for once per connection epoch and then at most once a minute ({@link #SEARCH_INTERVAL_NANOS})
 * rather than before every signature.
 *
 * <p>Why: SoftHSM2 answers a search by visiting every object the token and its sessions hold, the
 * backing key cache's session objects included (18,000 by default): with the cache full one search
 * takes tens of milliseconds of a token worker, and the audit log signs a checkpoint every 1,000
 * records (ten times a second at 10,000 requests a second) and at least once a second.
 *
 * <p>The search insists on exactly one key with the label, so that a second key made as the first
 * (by whoever holds the user PIN) makes signing fail rather than pick one: within {@link
 * #SEARCH_INTERVAL_NANOS} of its making, or at the next change of connection epoch if sooner.
 * Meanwhile the key found is the one used, never the second. A handle is good only in the library
 * instance and login it was found in: the connection's epoch moves on with each (a recycle, a
 * reopen), and a handle of another epoch is searched for again. Each reuse first reads back the
 * attributes the search asks for (one C_GetAttributeValue): a key destroyed and made again, or a
 * handle a token gave to another object, is searched for again rather than used.
 */
final class SigningKeyHandles {
  /**
   * How long a search's answer is used within its connection epoch: a second key with the label
   * fails signing at most this long after it was made.
   */
  static final long SEARCH_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(60);

  private record Found(long epoch, long handle, long atNanos) {}

  private final Map<String, Found> found = new ConcurrentHashMap<>();
  private final Calls calls;
  private final boolean marksGeneratedKeysLocal;
  private final LongSupplier nanoClock;

  SigningKeyHandles(Calls calls, boolean marksGeneratedKeysLocal) {
    this(calls, marksGeneratedKeysLocal, System::nanoTime);
  }

  /**
   * As the other constructor, reading time off {@code nanoClock} (tests pass a clock they move).
   */
  SigningKeyHandles(Calls calls, boolean marksGeneratedKeysLocal, LongSupplier nanoClock) {
    this.calls = calls;
    this.marksGeneratedKeysLocal = marksGeneratedKeysLocal;
    this.nanoClock = nanoClock;
  }

  /**
   * The handle of the one signing key labelled {@code label}, in {@code session} of the connection
   * epoch {@code epoch}.
   *
   * @throws HsmException when the token holds none or more than one
   */
  long handle(Session session, String label, long epoch) throws PKCS11Exception {
    AttributeVector template =
        PrivateKeyTemplates.signingKeyByLabel(label, marksGeneratedKeysLocal);
    Found known = found.get(label);
    long now = nanoClock.getAsLong();
    if (known != null
        && known.epoch() == epoch
        && now - known.atNanos() < SEARCH_INTERVAL_NANOS
        && TemplateMatch.stillMatches(session, calls, known.handle(), template)) {
      return known.handle();
    }
    calls.before(Pkcs11Function.C_FIND_OBJECTS);
    long[] handles = session.findObjectsSingle(template, 2);
    if (handles.length != 1) {
      found.remove(label);
      throw new HsmException(
          handles.length + " signing keys labelled " + label + " on the token; need one");
    }
    found.put(label, new Found(epoch, handles[0], now));
    return handles[0];
  }
}
