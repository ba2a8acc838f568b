package io.p11kms.hsm.keys;

import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.WrapMechanism;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.hsm.session.Calls;
import io.p11kms.hsm.session.DirectCalls;
import io.p11kms.hsm.session.Pkcs11Errors;
import io.p11kms.hsm.session.Pkcs11Function;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/**
 * Unwrapped backing keys (HBKs) for the request paths, cached as session objects or not.
 *
 * <p>Why a cache: without one, each encrypt or decrypt unwraps the EKT and destroys the HBK again,
 * two of its five token calls. With it, a key in use stays unwrapped, bounded in count and age
 * ({@link BackingKeyCache}); eviction destroys the object once no request uses it.
 *
 * <p>A key that misses is unwrapped into the cache's session and offered to the cache, whose policy
 * keeps it or not by how often the key is used; one it does not keep is destroyed when the request
 * releases it.
 *
 * <p>Cached HBKs are unwrapped in sessions of their own, not in pooled ones: a session object dies
 * with the session that made it, and the pool closes any session whose call failed. Those sessions
 * die only with all the others (a reconnect), when {@link #forgetAll()} drops every handle without
 * destroying anything. There are {@link #UNWRAP_STRIPES} of them, each under its own lock, a key
 * always going to the same one: misses of different keys unwrap side by side (under one lock every
 * miss would wait for the one unwrapping, and for its thread when the machine deschedules it),
 * while two misses of one key still unwrap it once. Sixteen, twice the default session pool: with
 * four, the pool's eight workers missing at once would share locks most of the time, and a worker
 * that waits for a lock parks and is woken again. With the cache off ({@code maxKeys} 0) every
 * request unwraps in its own session and destroys the HBK when done, as before the cache.
 */
public final class BackingKeys {
  private static final Logger LOG = LoggerFactory.getLogger(BackingKeys.class);

  /** Opens the session cached HBKs are unwrapped in. */
  @FunctionalInterface
  public interface Opener {
    Session open() throws PKCS11Exception;
  }

  /** An unwrapped HBK in use by one request. */
  public static final class Lease {
    public final long handle;
    private final BackingKeyCache.Entry entry;

    private Lease(long handle, BackingKeyCache.Entry entry) {
      this.handle = handle;
      this.entry = entry;
    }
  }

  /** How many sessions cached HBKs are unwrapped in, each with its own lock. */
  static final int UNWRAP_STRIPES = 16;

  /** One of the sessions cached HBKs are unwrapped in; the keys whose hash falls on it. */
  private static final class Stripe {
    private Session owner;
  }

  private final BackingKeyCache cache;
  private final int maxKeys;
  private final long maxAgeNanos;
  private final Calls calls;
  private final Opener opener;
  private final boolean privateObjects;
  private final Stripe[] stripes = new Stripe[UNWRAP_STRIPES];
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();

  /**
   * @param privateObjects whether the HBKs are unwrapped as private objects; public ones only where
   *     {@link KeyTemplates#publicSessionKeysAllowed} (they survive a logout: {@link
   *     #ownerSessions()} must be closed then)
   */
  public BackingKeys(
      int maxKeys, Duration maxAge, Calls calls, Opener opener, boolean privateObjects) {
    this.maxKeys = maxKeys;
    this.privateObjects = privateObjects;
    this.maxAgeNanos = maxAge.toNanos();
    this.cache = freshCache();
    this.calls = calls;
    this.opener = opener;
    for (int i = 0; i < stripes.length; i++) {
      stripes[i] = new Stripe();
    }
  }

  /**
   * The HBK that {@code key} wraps, unwrapped under {@code domainKey} for {@code use} (what that
   * domain key's UNWRAP_TEMPLATE pins): from the cache, or unwrapped now. The caller must {@link
   * #release} it in {@code finally}.
   */
  public Lease acquire(Session session, long domainKey, BackingKeyUse use, WrappedKey key)
      throws PKCS11Exception {
    if (cache == null) {
      return new Lease(unwrap(session, domainKey, use, key), null);
    }
    BackingKeyCache.Entry entry = cache.acquire(key);
    if (entry != null) {
      hits.increment();
      return new Lease(entry.handle, entry);
    }
    Stripe stripe = stripes[Math.floorMod(key.hashCode(), stripes.length)];
    synchronized (stripe) {
      entry = cache.acquire(key);
      if (entry != null) {
        hits.increment();
        return new Lease(entry.handle, entry);
      }
      misses.increment();
      if (stripe.owner == null) {
        stripe.owner = opener.open();
      }
      long handle = unwrap(stripe.owner, domainKey, use, key);
      entry = cache.add(key, handle);
      return new Lease(handle, entry);
    }
  }

  /**
   * Unwraps the HBK that {@code key} wraps into the cache ahead of its use, unless it is cached:
   * for the hot keys a move to a fresh library instance left behind ({@link BackingKeyWarmup}). Not
   * counted as a hit or a miss; an entry the cache evicts for it is destroyed in {@code session}.
   *
   * @return whether it unwrapped
   */
  public boolean prefetch(Session session, long domainKey, BackingKeyUse use, WrappedKey key)
      throws PKCS11Exception {
    if (cache == null) {
      return false;
    }
    Stripe stripe = stripes[Math.floorMod(key.hashCode(), stripes.length)];
    synchronized (stripe) {
      if (cache.contains(key)) {
        return false;
      }
      if (stripe.owner == null) {
        stripe.owner = opener.open();
      }
      cache.adopt(key, unwrap(stripe.owner, domainKey, use, key));
    }
    destroyEvicted(session);
    return true;
  }

  /** Gives the HBK back; destroys it if uncached, and any evicted HBK no request uses any more. */
  public void release(Session session, Lease lease) {
    if (lease.entry == null) {
      destroyQuietly(session, lease.handle);
      return;
    }
    cache.release(lease.entry);
    destroyEvicted(session);
  }

  /** Evicts the HBKs past their age and destroys what no request uses. */
  public void sweep(Session session) {
    if (cache != null) {
      cache.evictExpired();
      destroyEvicted(session);
    }
  }

  /** Evicts every HBK; each is destroyed now or when its last user releases it. */
  public void evictAll(Session session) {
    if (cache != null) {
      cache.evictAll();
      destroyEvicted(session);
    }
  }

  /**
   * After every session was closed (or, after a logout, every session {@link #ownerSessions()}
   * names): forgets the handles and the sessions they lived in. Runs while no request is in flight.
   */
  public void forgetAll() {
    if (cache != null) {
      cache.forgetAll();
    }
    for (Stripe stripe : stripes) {
      synchronized (stripe) {
        stripe.owner = null;
      }
    }
  }

  /** Whether the HBK {@code key} wraps is cached now; not counted as a use. */
  public boolean holds(WrappedKey key) {
    return cache != null && cache.contains(key);
  }

  /** The cache's entry for {@code key} now, for the warm-up ({@link #moveTo}); null when none. */
  BackingKeyCache.Entry cachedEntry(WrappedKey key) {
    return cache == null ? null : cache.peek(key);
  }

  /** The cached keys most likely to be used again, most used first: at most {@code limit}. */
  public List<WrappedKey> hottest(int limit) {
    return cache == null ? List.of() : cache.hottest(limit);
  }

  /** An empty cache of this one's bounds; null with the cache off. */
  private BackingKeyCache freshCache() {
    return maxKeys == 0 ? null : new BackingKeyCache(maxKeys, maxAgeNanos, System::nanoTime);
  }

  /**
   * The connection moved onto the library instance {@code warmed} was unwrapped in (every handle of
   * the instance left is stale): the cache forgets every handle but keeps its entries as
   * placeholders ({@link BackingKeyCache#forgetHandles}), the warmed keys take their new handles,
   * and the warmed session becomes the first unwrap session (closing it destroys its keys). The
   * policy keeps what it learned of the keys: under a Zipf(1.0) choice over 100,000 keys with
   * 20,000 cached, a cache started afresh at every move (every 300,000 calls) held 0.815 of the
   * calls against 0.834 with this (a simulation of the policy). Runs while every request waits: a
   * lookup per warmed key, no write to the policy.
   */
  public void moveTo(BackingKeyWarmup.Warmed warmed) {
    for (Stripe stripe : stripes) {
      synchronized (stripe) {
        stripe.owner = null;
      }
    }
    if (cache == null) {
      return;
    }
    cache.forgetHandles();
    for (int i = 0; i < warmed.count(); i++) {
      cache.renew(warmed.entry(i), warmed.key(i), warmed.handle(i));
    }
    if (warmed.session() != null) {
      synchronized (stripes[0]) {
        stripes[0].owner = warmed.session();
      }
    }
  }

  /**
   * Removes the cache's placeholders of keys not unwrapped again since the last move ({@link
   * #moveTo}); destroys nothing.
   *
   * @return how many were removed
   */
  public int dropStale() {
    return cache == null ? 0 : cache.dropStale();
  }

  /** The sessions cached HBKs live in (none before the first miss); closing them destroys them. */
  public List<Session> ownerSessions() {
    List<Session> owners = new ArrayList<>();
    for (Stripe stripe : stripes) {
      synchronized (stripe) {
        if (stripe.owner != null) {
          owners.add(stripe.owner);
        }
      }
    }
    return owners;
  }

  /** Requests that found their HBK in the cache, since start. */
  public long hits() {
    return hits.sum();
  }

  /** Requests that had to unwrap their HBK (cache on), since start. */
  public long misses() {
    return misses.sum();
  }

  public int size() {
    return cache == null ? 0 : cache.size();
  }

  private void destroyEvicted(Session session) {
    for (long handle : cache.takeDestroyable()) {
      destroyQuietly(session, handle);
    }
  }

  long unwrap(Session session, long domainKey, BackingKeyUse use, WrappedKey key)
      throws PKCS11Exception {
    if (key.wrapMechanism() != WrapMechanism.AES_KEY_WRAP) {
      throw new HsmException("unsupported wrap mechanism " + key.wrapMechanism());
    }
    calls.before(Pkcs11Function.C_UNWRAP_KEY);
    return DirectCalls.unwrapKey(
        session,
        PKCS11Constants.CKM_AES_KEY_WRAP,
        domainKey,
        key.ekt(),
        RequestTemplates.unwrappedBackingKey(use, privateObjects));
  }

  public void destroyQuietly(Session session, long handle) {
    try {
      calls.before(Pkcs11Function.C_DESTROY_OBJECT);
      session.destroyObject(handle);
    } catch (PKCS11Exception e) {
      if (Pkcs11Errors.recoveryFor(e.getErrorCode()) == Pkcs11Errors.Recovery.NONE) {
        LOG.warn("C_DestroyObject failed: {}", Pkcs11Errors.name(e.getErrorCode()));
      }
    }
  }
}
