package io.p11kms.hsm.keys;

import io.p11kms.hsm.session.Calls;
import io.p11kms.hsm.session.Pkcs11Function;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/**
 * Replaces {@link PrivateData} values: makes an object holding the new value, then destroys the
 * ones that were there. Tokens may keep a data object's value read-only (SoftHSM2 does), and in
 * this order a failure in between leaves the new value beside the old rather than neither.
 *
 * <p>The old objects are the one the last replace of the label made, remembered per connection
 * epoch and destroyed by handle after a check that the handle still names it (its label, class,
 * application or carrier attributes): no search, which SoftHSM2 answers by visiting every object it
 * holds (tens of milliseconds with the backing key cache full; the audit anchor is replaced every
 * second). The label is searched for, and every object found but the new one destroyed, when
 * nothing is remembered (the first replace after open or a change of epoch: a recycle, a reopen),
 * when the last search is {@link #SEARCH_INTERVAL_NANOS} old, when the check fails or when the
 * destroy does. So an object with the label made by someone else (a user-PIN holder) stays until
 * then, at most a minute, and {@link PrivateData#read} sees it beside the value meanwhile.
 */
public final class PrivateDataWrites {
  /** How long after a search of a label its replaces go by the object the last one made. */
  public static final long SEARCH_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(60);

  private record Last(long epoch, PrivateData.Made made, long searchedAtNanos) {}

  private final Map<String, Last> last = new ConcurrentHashMap<>();
  private final Calls calls;
  private final LongSupplier nanoClock;

  public PrivateDataWrites(Calls calls) {
    this(calls, System::nanoTime);
  }

  /**
   * As the other constructor, reading time off {@code nanoClock} (tests pass a clock they move).
   */
  public PrivateDataWrites(Calls calls, LongSupplier nanoClock) {
    this.calls = calls;
    this.nanoClock = nanoClock;
  }

  /**
   * Replaces the value labelled {@code label} with {@code value}, in connection epoch {@code
   * epoch}.
   */
  public void replace(Session session, String label, byte[] value, long epoch)
      throws PKCS11Exception {
    Last known = last.remove(label);
    long now = nanoClock.getAsLong();
    boolean remembered =
        known != null
            && known.epoch() == epoch
            && now - known.searchedAtNanos() < SEARCH_INTERVAL_NANOS;
    long[] old = remembered ? null : PrivateData.find(session, calls, label);
    PrivateData.Made made = PrivateData.make(session, calls, label, value);
    long searchedAt = remembered ? known.searchedAtNanos() : now;
    if (remembered && !destroyed(session, known.made(), made.handle())) {
      old = PrivateData.find(session, calls, label);
      searchedAt = now;
    }
    if (old != null) {
      PrivateData.destroyAllBut(session, calls, old, made.handle());
    }
    last.put(label, new Last(epoch, made, searchedAt));
  }

  /**
   * Destroys {@code previous} if its handle still names it (or is {@code made}'s: NSS softoken
   * answers a new carrier key with the CKA_ID of one it holds with that key); false when it did
   * not.
   */
  private boolean destroyed(Session session, PrivateData.Made previous, long made) {
    if (previous.handle() == made) {
      return true;
    }
    if (!TemplateMatch.stillMatches(session, calls, previous.handle(), previous.template())) {
      return false;
    }
    try {
      calls.before(Pkcs11Function.C_DESTROY_OBJECT);
      session.destroyObject(previous.handle());
      return true;
    } catch (PKCS11Exception e) {
      return false;
    }
  }
}
