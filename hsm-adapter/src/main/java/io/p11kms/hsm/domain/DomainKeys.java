package io.p11kms.hsm.domain;

import io.p11kms.hsm.AsymmetricDomainKeyMissingException;
import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.keys.BackingKeyUse;
import io.p11kms.hsm.keys.KeyTemplates;
import io.p11kms.hsm.session.Calls;
import io.p11kms.hsm.session.Pkcs11Function;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/**
 * The domain keys on the token, by role and generation, with their object handles cached.
 *
 * <p>Why cache: finding an object by label costs three token calls, and encrypt and decrypt need
 * the domain key every time. Token object handles stay valid for the life of the application's
 * login, so each key is looked up once. A generation that is not cached (a rotation done by another
 * process) is looked up by label on first use. After a reconnect the handles are forgotten ({@link
 * #clear()}) and found again by label.
 *
 * <p>Every role's domain keys ({@link DomainKeyRole}) are kept here by the same generation numbers;
 * a token may lack the newer roles (made before they existed). Also kept: what the backing keys of
 * each generation may do ({@link BackingKeyUse}), read once from the UNWRAP_TEMPLATE of its {@code
 * domain-key/<n>}.
 *
 * <p>The handles name the token objects themselves. A session copy would spare SoftHSM2 the file
 * checks it makes on each use of a token object, but the token refuses to copy a domain key (not
 * COPYABLE; on SoftHSM2 not MODIFIABLE alone refuses any copy template): docs/token.md.
 */
public final class DomainKeys {
  private final Map<DomainKeyRole, Map<Integer, Long>> handles = new EnumMap<>(DomainKeyRole.class);
  private final Map<Integer, BackingKeyUse> uses = new ConcurrentHashMap<>();
  private final Calls calls;
  private volatile int current;

  public DomainKeys(Calls calls) {
    this.calls = calls;
    for (DomainKeyRole role : DomainKeyRole.values()) {
      handles.put(role, new ConcurrentHashMap<>());
    }
  }

  /**
   * Reads every trusted domain key on the token and remembers the highest {@code domain-key/<n>}
   * generation.
   */
  public void scan(Session session) throws PKCS11Exception {
    calls.before(Pkcs11Function.C_FIND_OBJECTS);
    long[] objects = session.findAllObjectsSingle(KeyTemplates.trustedTokenSecretKeys());
    for (long object : objects) {
      calls.before(Pkcs11Function.C_GET_ATTRIBUTE_VALUE);
      String label = session.getStringAttrValue(object, PKCS11Constants.CKA_LABEL);
      for (DomainKeyRole role : DomainKeyRole.values()) {
        int generation = role.generationOf(label);
        if (generation > 0) {
          remember(role, generation, object);
        }
      }
    }
  }

  /** The generation new keys are wrapped under, or 0 when the token has no domain key. */
  public int currentGeneration() {
    return current;
  }

  /**
   * The handle of {@code domain-key/<generation>}.
   *
   * @throws HsmException when the token holds no such key, or more than one
   */
  public long handle(Session session, int generation) throws PKCS11Exception {
    return handle(session, DomainKeyRole.SYMMETRIC, generation);
  }

  /**
   * The handle of {@code domain-key-asym/<generation>}.
   *
   * @throws AsymmetricDomainKeyMissingException when the token holds no such key
   * @throws HsmException when it holds more than one
   */
  public long asymHandle(Session session, int generation) throws PKCS11Exception {
    return handle(session, DomainKeyRole.ASYMMETRIC, generation);
  }

  /**
   * The handle of the domain key of {@code role} and {@code generation}.
   *
   * @throws AsymmetricDomainKeyMissingException when the token holds no private or HMAC key domain
   *     key of that generation (a token made before that role existed)
   * @throws HsmException when it holds no backing key domain key, or more than one of any
   */
  public long handle(Session session, DomainKeyRole role, int generation) throws PKCS11Exception {
    Long cached = handles.get(role).get(generation);
    if (cached != null) {
      return cached;
    }
    String label = role.label(generation);
    calls.before(Pkcs11Function.C_FIND_OBJECTS);
    long[] found =
        session.findObjectsSingle(KeyTemplates.trustedDomainKeyByLabel(role, generation), 2);
    if (found.length == 0) {
      if (role == DomainKeyRole.SYMMETRIC) {
        throw new HsmException("domain key " + label + " not found on the token");
      }
      throw new AsymmetricDomainKeyMissingException(
          "domain key "
              + label
              + " not found on the token; the security officer adds it with the domain key"
              + " ceremony (init-domain-key)");
    }
    if (found.length > 1) {
      throw new HsmException("more than one " + label + " on the token");
    }
    remember(role, generation, found[0]);
    return found[0];
  }

  /**
   * What the backing keys of {@code generation} may do, as its domain key's UNWRAP_TEMPLATE says:
   * {@link BackingKeyUse#DERIVE} if it pins DERIVE true (a generation made before), else {@link
   * BackingKeyUse#AES_GCM}.
   */
  public BackingKeyUse backingKeyUse(Session session, int generation) throws PKCS11Exception {
    BackingKeyUse known = uses.get(generation);
    if (known != null) {
      return known;
    }
    long domainKey = handle(session, generation);
    calls.before(Pkcs11Function.C_GET_ATTRIBUTE_VALUE);
    AttributeVector template =
        session.getAttrValues(domainKey, PKCS11Constants.CKA_UNWRAP_TEMPLATE).unwrapTemplate();
    BackingKeyUse use =
        template != null && Boolean.TRUE.equals(template.derive())
            ? BackingKeyUse.DERIVE
            : BackingKeyUse.AES_GCM;
    uses.put(generation, use);
    return use;
  }

  /** What the backing keys of {@code generation} may do, if already read; else null. */
  public BackingKeyUse knownBackingKeyUse(int generation) {
    return uses.get(generation);
  }

  /** Forgets every handle, e.g. after the sessions that knew them died with the token. */
  public void clear() {
    for (Map<Integer, Long> byGeneration : handles.values()) {
      byGeneration.clear();
    }
  }

  /**
   * Takes the handles {@code found} holds, found on the library instance that replaces the one this
   * object's handles belong to.
   */
  public synchronized void adopt(DomainKeys found) {
    for (DomainKeyRole role : DomainKeyRole.values()) {
      handles.get(role).clear();
      handles.get(role).putAll(found.handles.get(role));
    }
    uses.putAll(found.uses);
    current = Math.max(current, found.current);
  }

  private synchronized void remember(DomainKeyRole role, int generation, long handle) {
    handles.get(role).put(generation, handle);
    if (role == DomainKeyRole.SYMMETRIC && generation > current) {
      current = generation;
    }
  }

  /** The generation in a {@code domain-key/<n>} label, or 0 if the label is something else. */
  static int generationOf(String label) {
    return generationOf(label, KeyTemplates.DOMAIN_KEY_PREFIX);
  }

  /** The generation in a {@code <prefix><n>} label, or 0 if the label is something else. */
  static int generationOf(String label, String prefix) {
    if (label == null || !label.startsWith(prefix)) {
      return 0;
    }
    String digits = label.substring(prefix.length()).trim();
    if (digits.isEmpty() || digits.length() > 9 || !digits.chars().allMatch(Character::isDigit)) {
      return 0;
    }
    return Integer.parseInt(digits);
  }
}
