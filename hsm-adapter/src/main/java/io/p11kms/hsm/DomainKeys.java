package io.p11kms.hsm;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/**
 * The domain keys on the token, by generation, with their object handles cached.
 *
 * <p>Why cache: finding an object by label costs three token calls, and encrypt and decrypt need
 * the domain key every time. Token object handles stay valid for the life of the application's
 * login, so each generation is looked up once. A generation that is not cached (a rotation done by
 * another process) is looked up by label on first use. After a reconnect the handles are forgotten
 * ({@link #clear()}) and found again by label.
 *
 * <p>The asymmetric domain keys {@code domain-key-asym/<n>} (which wrap private and HMAC keys) are
 * kept here too, by the same generation numbers; a token may lack them (made before they existed).
 */
final class DomainKeys {
  private final Map<Integer, Long> handles = new ConcurrentHashMap<>();
  private final Map<Integer, Long> asymHandles = new ConcurrentHashMap<>();
  private final Calls calls;
  private volatile int current;

  DomainKeys(Calls calls) {
    this.calls = calls;
  }

  /**
   * Reads every trusted {@code domain-key/<n>} and {@code domain-key-asym/<n>} on the token and
   * remembers the highest domain key generation.
   */
  void scan(Session session) throws PKCS11Exception {
    calls.before("C_FindObjects");
    long[] objects = session.findAllObjectsSingle(KeyTemplates.trustedTokenSecretKeys());
    for (long object : objects) {
      calls.before("C_GetAttributeValue");
      String label = session.getStringAttrValue(object, PKCS11Constants.CKA_LABEL);
      int generation = generationOf(label);
      if (generation > 0) {
        remember(generation, object);
      }
      int asymGeneration = generationOf(label, KeyTemplates.ASYM_DOMAIN_KEY_PREFIX);
      if (asymGeneration > 0) {
        asymHandles.put(asymGeneration, object);
      }
    }
  }

  /** The generation new backing keys are wrapped under, or 0 when the token has no domain key. */
  int currentGeneration() {
    return current;
  }

  /**
   * The handle of {@code domain-key/<generation>}.
   *
   * @throws HsmException when the token holds no such key, or more than one
   */
  long handle(Session session, int generation) throws PKCS11Exception {
    Long cached = handles.get(generation);
    if (cached != null) {
      return cached;
    }
    AttributeVector byLabel = KeyTemplates.trustedDomainKeyByLabel(generation);
    calls.before("C_FindObjects");
    long[] found = session.findObjectsSingle(byLabel, 2);
    if (found.length == 0) {
      throw new HsmException(
          "domain key " + KeyTemplates.domainKeyLabel(generation) + " not found on the token");
    }
    if (found.length > 1) {
      throw new HsmException(
          "more than one " + KeyTemplates.domainKeyLabel(generation) + " on the token");
    }
    remember(generation, found[0]);
    return found[0];
  }

  /**
   * The handle of {@code domain-key-asym/<generation>}.
   *
   * @throws AsymmetricDomainKeyMissingException when the token holds no such key
   * @throws HsmException when it holds more than one
   */
  long asymHandle(Session session, int generation) throws PKCS11Exception {
    Long cached = asymHandles.get(generation);
    if (cached != null) {
      return cached;
    }
    String label = KeyTemplates.asymDomainKeyLabel(generation);
    calls.before("C_FindObjects");
    long[] found =
        session.findObjectsSingle(KeyTemplates.trustedAsymDomainKeyByLabel(generation), 2);
    if (found.length == 0) {
      throw new AsymmetricDomainKeyMissingException(
          "asymmetric domain key "
              + label
              + " not found on the token; the security officer adds it with the domain key"
              + " ceremony (init-domain-key)");
    }
    if (found.length > 1) {
      throw new HsmException("more than one " + label + " on the token");
    }
    asymHandles.put(generation, found[0]);
    return found[0];
  }

  /** Forgets every handle, e.g. after the sessions that knew them died with the token. */
  void clear() {
    handles.clear();
    asymHandles.clear();
  }

  /**
   * Takes the handles {@code found} holds, found on the library instance that replaces the one this
   * object's handles belong to.
   */
  synchronized void adopt(DomainKeys found) {
    handles.clear();
    asymHandles.clear();
    handles.putAll(found.handles);
    asymHandles.putAll(found.asymHandles);
    current = Math.max(current, found.current);
  }

  private synchronized void remember(int generation, long handle) {
    handles.put(generation, handle);
    if (generation > current) {
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
