package io.p11kms.hsm;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11Module;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.Token;
import org.xipki.pkcs11.wrapper.params.GCM_PARAMS;
import org.xipki.pkcs11.wrapper.params.KEY_DERIVATION_STRING_DATA;

/**
 * {@link Hsm} over a PKCS#11 token, through ipkcs11wrapper.
 *
 * <p>Every request unwraps the backing key under its domain key, derives a one-use key from it and
 * the salt, runs AES-GCM, and destroys both session objects in {@code finally}, so that no key
 * object outlives its request. Token object handles of domain keys are cached; nothing else is.
 *
 * <p>Thread-safe: each request borrows its own session from a bounded {@link SessionPool}.
 */
public final class Pkcs11Hsm implements Hsm {
  private static final Logger LOG = LoggerFactory.getLogger(Pkcs11Hsm.class);
  private static final int GCM_TAG_BITS = TAG_LENGTH * 8;
  private static final int MAX_RANDOM_BYTES = 1024;

  private final HsmConfig config;
  private final Token token;
  private final Session loginSession;
  private final SessionPool pool;
  private final DomainKeys domainKeys;
  private final Derivation preferred;
  private final long[] mechanisms;
  private final AtomicBoolean closed = new AtomicBoolean();

  private Pkcs11Hsm(
      HsmConfig config,
      Token token,
      Session loginSession,
      DomainKeys domainKeys,
      Derivation preferred,
      long[] mechanisms) {
    this.config = config;
    this.token = token;
    this.loginSession = loginSession;
    this.domainKeys = domainKeys;
    this.preferred = preferred;
    this.mechanisms = mechanisms;
    this.pool =
        new SessionPool(this::openSession, config.sessionPoolSize(), config.borrowTimeout());
  }

  /**
   * Loads the module, finds the token by label, probes its mechanisms, logs in as the user and
   * finds the domain keys.
   *
   * @throws HsmException when the token is absent, lacks a required mechanism, or refuses the PIN
   */
  public static Pkcs11Hsm open(HsmConfig config) {
    PKCS11Module module = Pkcs11Modules.acquire(config.modulePath());
    Session loginSession = null;
    try {
      Token token = TokenFinder.byLabel(module, config.tokenLabel());
      long[] mechanisms = token.getMechanismList();
      Derivation preferred = MechanismProbe.choose(mechanisms);
      loginSession = token.openSession(true);
      logIn(loginSession, config.userPin());
      DomainKeys domainKeys = new DomainKeys();
      domainKeys.scan(loginSession);
      if (domainKeys.currentGeneration() == 0) {
        LOG.warn(
            "token {} holds no domain key yet; run the domain key ceremony before creating keys",
            config.tokenLabel());
      }
      LOG.info(
          "opened token {} (domain key generation {}, derivation {}, {} sessions)",
          config.tokenLabel(),
          domainKeys.currentGeneration(),
          preferred,
          config.sessionPoolSize());
      return new Pkcs11Hsm(config, token, loginSession, domainKeys, preferred, mechanisms);
    } catch (PKCS11Exception e) {
      closeQuietly(loginSession);
      Pkcs11Modules.release(config.modulePath());
      throw Pkcs11Errors.map("open token", e);
    } catch (RuntimeException e) {
      closeQuietly(loginSession);
      Pkcs11Modules.release(config.modulePath());
      throw e;
    }
  }

  /** Logs in as the user, tolerating a login this application already holds; wipes the PIN. */
  private static void logIn(Session session, PinSource pinSource) throws PKCS11Exception {
    char[] pin = pinSource.read();
    try {
      session.login(PKCS11Constants.CKU_USER, pin);
    } catch (PKCS11Exception e) {
      if (e.getErrorCode() != PKCS11Constants.CKR_USER_ALREADY_LOGGED_IN) {
        throw e;
      }
    } finally {
      Arrays.fill(pin, '\0');
    }
  }

  /** Opens a pooled session; logs in again if the application's login was lost. */
  private Session openSession() throws PKCS11Exception {
    Session session = token.openSession(true);
    try {
      if (session.getSessionInfo().getState() != PKCS11Constants.CKS_RW_USER_FUNCTIONS) {
        domainKeys.clear();
        logIn(session, config.userPin());
      }
      return session;
    } catch (PKCS11Exception | RuntimeException e) {
      closeQuietly(session);
      throw e;
    }
  }

  @Override
  public Derivation preferredDerivation() {
    return preferred;
  }

  @Override
  public WrappedKey generateBackingKey() {
    Step step = new Step("C_GenerateKey");
    try {
      return pool.execute(
          session -> {
            int generation = currentGeneration(session);
            step.name = "find domain key";
            long domainKey = domainKeys.handle(session, generation);
            step.name = "C_GenerateKey";
            long backingKey =
                session.generateKey(
                    new Mechanism(PKCS11Constants.CKM_AES_KEY_GEN), KeyTemplates.newBackingKey());
            try {
              step.name = "C_WrapKey";
              byte[] ekt =
                  session.wrapKey(
                      new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP), domainKey, backingKey);
              return new WrappedKey(generation, WrapMechanism.AES_KEY_WRAP, ekt);
            } finally {
              destroyQuietly(session, backingKey);
            }
          });
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map(step.name, e);
    }
  }

  private int currentGeneration(Session session) throws PKCS11Exception {
    if (domainKeys.currentGeneration() == 0) {
      domainKeys.scan(session);
    }
    int generation = domainKeys.currentGeneration();
    if (generation == 0) {
      throw new HsmException(
          "token " + config.tokenLabel() + " holds no domain key; run the domain key ceremony");
    }
    return generation;
  }

  @Override
  public byte[] encrypt(
      WrappedKey backingKey,
      Derivation derivation,
      byte[] salt,
      byte[] iv,
      byte[] aad,
      byte[] plaintext) {
    checkArguments(backingKey, derivation, salt, iv);
    if (plaintext == null) {
      throw new IllegalArgumentException("plaintext is required");
    }
    if (!MechanismProbe.canRun(derivation, mechanisms)) {
      throw new HsmException("derivation " + derivation + " is not available on this token");
    }
    Step step = new Step("encrypt");
    try {
      return pool.execute(
          session -> {
            step.name = "find domain key";
            long domainKey = domainKeys.handle(session, backingKey.domainKeyGeneration());
            step.name = "C_UnwrapKey";
            long hbk = unwrap(session, domainKey, backingKey);
            try {
              step.name = "C_DeriveKey";
              long key = derive(session, hbk, salt, true);
              try {
                step.name = "C_Encrypt";
                return gcmEncrypt(session, key, iv, aad, plaintext);
              } finally {
                destroyQuietly(session, key);
              }
            } finally {
              destroyQuietly(session, hbk);
            }
          });
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map(step.name, e);
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>A derivation this token cannot run, an EKT that will not unwrap and a tag that does not
   * verify all give the same {@link HsmDecryptionFailedException}: each is what a tampered
   * ciphertext looks like.
   */
  @Override
  public byte[] decrypt(
      WrappedKey backingKey,
      Derivation derivation,
      byte[] salt,
      byte[] iv,
      byte[] aad,
      byte[] ciphertextAndTag) {
    checkArguments(backingKey, derivation, salt, iv);
    if (ciphertextAndTag == null) {
      throw new IllegalArgumentException("ciphertext is required");
    }
    if (ciphertextAndTag.length < TAG_LENGTH || !MechanismProbe.canRun(derivation, mechanisms)) {
      throw new HsmDecryptionFailedException(Pkcs11Errors.DECRYPTION_FAILED);
    }
    Step step = new Step("decrypt");
    try {
      return pool.execute(
          session -> {
            step.name = "find domain key";
            long domainKey = domainKeys.handle(session, backingKey.domainKeyGeneration());
            step.name = "C_UnwrapKey";
            long hbk = unwrap(session, domainKey, backingKey);
            try {
              step.name = "C_DeriveKey";
              long key = derive(session, hbk, salt, false);
              try {
                step.name = "C_Decrypt";
                return session.decryptSingle(gcm(iv, aad), key, ciphertextAndTag);
              } finally {
                destroyQuietly(session, key);
              }
            } finally {
              destroyQuietly(session, hbk);
            }
          });
    } catch (PKCS11Exception e) {
      switch (step.name) {
        case "C_Decrypt":
          throw Pkcs11Errors.mapDecrypt(e);
        case "C_UnwrapKey":
          throw Pkcs11Errors.mapUnwrapForDecrypt(e);
        default:
          throw Pkcs11Errors.map(step.name, e);
      }
    }
  }

  private static long unwrap(Session session, long domainKey, WrappedKey backingKey)
      throws PKCS11Exception {
    if (backingKey.wrapMechanism() != WrapMechanism.AES_KEY_WRAP) {
      throw new HsmException("unsupported wrap mechanism " + backingKey.wrapMechanism());
    }
    return session.unwrapKey(
        new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP),
        domainKey,
        backingKey.ekt(),
        KeyTemplates.unwrappedBackingKey());
  }

  private static long derive(Session session, long hbk, byte[] salt, boolean forEncrypt)
      throws PKCS11Exception {
    Mechanism mechanism =
        new Mechanism(
            PKCS11Constants.CKM_AES_ECB_ENCRYPT_DATA, new KEY_DERIVATION_STRING_DATA(salt));
    return session.deriveKey(mechanism, hbk, KeyTemplates.derivedKey(forEncrypt));
  }

  /**
   * AES-GCM encrypt. An empty plaintext goes through C_EncryptInit and C_EncryptFinal: the wrapper
   * passes an empty array as a NULL pointer, which SoftHSM2's C_Encrypt rejects with {@code
   * CKR_ARGUMENTS_BAD}.
   */
  private static byte[] gcmEncrypt(
      Session session, long key, byte[] iv, byte[] aad, byte[] plaintext) throws PKCS11Exception {
    if (plaintext.length > 0) {
      return session.encryptSingle(gcm(iv, aad), key, plaintext);
    }
    session.encryptInit(gcm(iv, aad), key);
    return session.encryptFinal();
  }

  private static Mechanism gcm(byte[] iv, byte[] aad) {
    return new Mechanism(
        PKCS11Constants.CKM_AES_GCM,
        new GCM_PARAMS(iv, aad == null ? new byte[0] : aad, GCM_TAG_BITS));
  }

  private static void checkArguments(
      WrappedKey backingKey, Derivation derivation, byte[] salt, byte[] iv) {
    if (backingKey == null) {
      throw new IllegalArgumentException("backing key is required");
    }
    if (derivation == null) {
      throw new IllegalArgumentException("derivation is required");
    }
    if (salt == null || salt.length != SALT_LENGTH) {
      throw new IllegalArgumentException(
          "invalid salt length "
              + (salt == null ? "null" : salt.length)
              + "; must be "
              + SALT_LENGTH
              + " bytes");
    }
    if (iv == null || iv.length != IV_LENGTH) {
      throw new IllegalArgumentException(
          "invalid IV length "
              + (iv == null ? "null" : iv.length)
              + "; must be "
              + IV_LENGTH
              + " bytes");
    }
  }

  @Override
  public byte[] generateRandom(int numberOfBytes) {
    if (numberOfBytes < 1 || numberOfBytes > MAX_RANDOM_BYTES) {
      throw new IllegalArgumentException(
          "invalid random length " + numberOfBytes + "; must be 1-" + MAX_RANDOM_BYTES + " bytes");
    }
    try {
      return pool.execute(session -> session.generateRandom(numberOfBytes));
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map("C_GenerateRandom", e);
    }
  }

  /**
   * The number of objects a fresh session sees: token objects plus every session object of this
   * application. Tests compare it before and after a run to prove that no key object leaks.
   */
  public int visibleObjectCount() {
    checkOpen();
    Session session = null;
    try {
      session = token.openSession(false);
      session.findObjectsInit(new AttributeVector());
      try {
        int count = 0;
        long[] batch;
        while ((batch = session.findObjects(256)).length > 0) {
          count += batch.length;
        }
        return count;
      } finally {
        session.findObjectsFinal();
      }
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map("count objects", e);
    } finally {
      closeQuietly(session);
    }
  }

  /**
   * For tests only: runs {@code work} with a pooled, logged-in session, so that custody tests can
   * make raw PKCS#11 calls. Not for production code, which must go through {@link Hsm}.
   */
  <T> T withSessionForTest(SessionPool.SessionWork<T> work) throws PKCS11Exception {
    checkOpen();
    return pool.execute(work);
  }

  /** For tests only: the handle of {@code domain-key/<generation>}. */
  long domainKeyHandleForTest(Session session, int generation) throws PKCS11Exception {
    return domainKeys.handle(session, generation);
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new HsmUnavailableException("the HSM adapter is closed");
    }
  }

  /** Closes the sessions, logs out and finalizes the module (if no one else uses it). */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    pool.close();
    try {
      loginSession.logout();
    } catch (PKCS11Exception | RuntimeException e) {
      // Already logged out, or the token is gone: nothing to undo.
    }
    closeQuietly(loginSession);
    Pkcs11Modules.release(config.modulePath());
    LOG.info("closed token {}", config.tokenLabel());
  }

  private static void destroyQuietly(Session session, long handle) {
    try {
      session.destroyObject(handle);
    } catch (PKCS11Exception e) {
      if (!Pkcs11Errors.isDeadSession(e)) {
        LOG.warn("C_DestroyObject failed: {}", Pkcs11Errors.name(e.getErrorCode()));
      }
    }
  }

  private static void closeQuietly(Session session) {
    if (session == null) {
      return;
    }
    try {
      session.closeSession();
    } catch (PKCS11Exception | RuntimeException e) {
      // A session that cannot be closed is already gone.
    }
  }

  /** The token call a request is in, so that its failure is mapped by what it means there. */
  private static final class Step {
    String name;

    Step(String name) {
      this.name = name;
    }
  }
}
