package io.p11kms.hsm;

import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11Module;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.TokenInfo;
import org.xipki.pkcs11.wrapper.params.KEY_DERIVATION_STRING_DATA;

/**
 * {@link Hsm} over a PKCS#11 token, through ipkcs11wrapper.
 *
 * <p>Every request runs AES-GCM under the backing key (HBK) itself, or, for a backing key of a
 * domain key generation made before that, derives a one-use key from the HBK and the salt and
 * destroys it in {@code finally} ({@link Derivation}). The HBK comes from a bounded cache of
 * unwrapped HBKs ({@link BackingKeys}), or is unwrapped under its domain key for this request and
 * destroyed after.
 *
 * <p>Thread-safe: each request borrows its own session from a bounded {@link SessionPool}, within a
 * deadline; a {@link TokenConnection} recovers from lost logins, lost sessions and device faults
 * and retries the request once. Every request is idempotent from the caller's view: encrypt,
 * decrypt and random change nothing, and {@link #generateBackingKey()} stores nothing (a retried
 * one makes a second HBK, returns only that one, and the first never left the token).
 */
public final class Pkcs11Hsm implements Hsm {
  private static final Logger LOG = LoggerFactory.getLogger(Pkcs11Hsm.class);
  private static final int MAX_RANDOM_BYTES = 1024;
  private static final int RSA_GENERATION_DEADLINE_FACTOR = 6;

  private final HsmConfig config;
  private final TokenConnection connection;
  private final Calls calls;
  private final DomainKeys domainKeys;
  private final BackingKeys backingKeys;
  private final Derivation preferred;
  private final TokenCapabilities capabilities;
  private final long[] mechanisms;
  private final TokenIdentity identity;
  // Whether the token runs each derivation, decided once from its mechanism list.
  private final Set<Derivation> runnable;
  private final PrivateKeys privateKeys;
  private final KeyImports imports;
  private final RegionTransfers regions;
  private final AtomicBoolean closed = new AtomicBoolean();

  private Pkcs11Hsm(
      HsmConfig config,
      TokenConnection connection,
      Derivation preferred,
      TokenCapabilities capabilities,
      long[] mechanisms,
      TokenIdentity identity) {
    this.config = config;
    this.capabilities = capabilities;
    this.identity = identity;
    this.connection = connection;
    this.calls = connection.calls();
    this.domainKeys = connection.domainKeys();
    this.backingKeys = connection.backingKeys();
    this.preferred = preferred;
    this.mechanisms = mechanisms;
    this.runnable = EnumSet.noneOf(Derivation.class);
    for (Derivation d : Derivation.values()) {
      if (MechanismProbe.canRun(d, mechanisms)) {
        runnable.add(d);
      }
    }
    this.privateKeys =
        new PrivateKeys(calls, domainKeys, backingKeys, this::currentGeneration, mechanisms);
    this.imports =
        new KeyImports(calls, domainKeys, backingKeys, this::currentGeneration, mechanisms);
    this.regions = new RegionTransfers(calls, domainKeys, backingKeys, imports);
  }

  /**
   * Loads the module, finds the token by label, probes its mechanisms, logs in as the user and
   * finds the domain keys.
   *
   * @throws HsmException when the token is absent, lacks a required mechanism, or refuses the PIN
   */
  public static Pkcs11Hsm open(HsmConfig config) {
    return open(config, TokenCallInterceptor.NONE);
  }

  /**
   * As {@link #open(HsmConfig)}, with every PKCS#11 call made through {@code interceptor} (tests
   * use it to inject faults).
   */
  public static Pkcs11Hsm open(HsmConfig config, TokenCallInterceptor interceptor) {
    return open(config, interceptor, StandbyLibrary.PRIVATE_COPY);
  }

  /**
   * As {@link #open(HsmConfig, TokenCallInterceptor)}, with the standby instance of the library
   * loaded by {@code standbyLoader} (tests use one that fails).
   */
  static Pkcs11Hsm open(
      HsmConfig config, TokenCallInterceptor interceptor, StandbyLibrary.Loader standbyLoader) {
    PKCS11Module module = Pkcs11Modules.acquire(config);
    TokenConnection connection = null;
    try {
      connection = TokenConnection.open(config, interceptor, module, standbyLoader);
      long[] mechanisms = connection.token().getMechanismList();
      Derivation preferred = MechanismProbe.choose(mechanisms);
      TokenCapabilities capabilities = TokenCapabilities.probe(connection.token());
      if (!capabilities.custodyEnforced()) {
        if (!config.allowUnenforcedCustody()) {
          throw new HsmException(
              "token "
                  + config.tokenLabel()
                  + " does not enforce key custody ("
                  + String.join("; ", capabilities.custodyGaps())
                  + "): anyone with the user PIN can take key material out. Refused; allow it"
                  + " for development and tests only");
        }
        LOG.warn(
            "token {} does not enforce key custody ({}): allowed by configuration, for development"
                + " and tests only",
            config.tokenLabel(),
            String.join("; ", capabilities.custodyGaps()));
      }
      int generation = connection.domainKeys().currentGeneration();
      if (generation == 0) {
        LOG.warn(
            "token {} holds no domain key yet; run the domain key ceremony before creating keys",
            config.tokenLabel());
      }
      LOG.info(
          "opened token {} (domain key generation {}, derivation {}, AES-GCM encryption {}, {}"
              + " sessions, call deadline {} ms, backing key cache {} keys / {} s)",
          config.tokenLabel(),
          generation,
          preferred,
          capabilities.gcmEncryption(),
          config.sessionPoolSize(),
          config.callTimeout().toMillis(),
          config.cacheMaxKeys(),
          config.cacheMaxAge().toSeconds());
      return new Pkcs11Hsm(
          config, connection, preferred, capabilities, mechanisms, identity(connection));
    } catch (PKCS11Exception e) {
      closeQuietly(connection);
      Pkcs11Modules.release(config.modulePath());
      throw Pkcs11Errors.map("open token", e);
    } catch (RuntimeException e) {
      closeQuietly(connection);
      Pkcs11Modules.release(config.modulePath());
      throw e;
    }
  }

  private static TokenIdentity identity(TokenConnection connection) throws PKCS11Exception {
    TokenInfo info = connection.token().getTokenInfo();
    String firmware = info.getFirmwareVersion() == null ? "" : info.getFirmwareVersion().toString();
    return new TokenIdentity(
        trimmed(info.getManufacturerID()),
        trimmed(info.getModel()) + (firmware.isEmpty() ? "" : " firmware " + firmware),
        trimmed(info.getSerialNumber()),
        trimmed(info.getLabel()));
  }

  private static String trimmed(String s) {
    return s == null ? "" : s.trim();
  }

  @Override
  public TokenIdentity identity() {
    return identity;
  }

  private static void closeQuietly(TokenConnection connection) {
    if (connection != null) {
      connection.close();
    }
  }

  /** What this token was found to do where tokens differ, probed at open. */
  public TokenCapabilities capabilities() {
    return capabilities;
  }

  @Override
  public Derivation preferredDerivation() {
    return preferred;
  }

  /**
   * {@inheritDoc}
   *
   * <p>What the backing key's generation lets it do: {@link Derivation#NONE_AES_GCM} for a
   * generation made by the current ceremony, {@link Derivation#AES_ECB_ENCRYPT_DATA} for one made
   * before (its backing keys can only derive). Read once per generation from its domain key.
   */
  @Override
  public Derivation derivationFor(WrappedKey backingKey) {
    if (backingKey == null) {
      throw new IllegalArgumentException("backing key is required");
    }
    int generation = backingKey.domainKeyGeneration();
    BackingKeyUse use = domainKeys.knownBackingKeyUse(generation);
    if (use == null) {
      checkOpen();
      try {
        use =
            connection.call(
                "read domain key", session -> domainKeys.backingKeyUse(session, generation), true);
      } catch (PKCS11Exception e) {
        throw Pkcs11Errors.map("read domain key", e);
      }
    }
    return use == BackingKeyUse.AES_GCM ? Derivation.NONE_AES_GCM : preferredDerivedKey();
  }

  /** The derivation for backing keys that can only derive. */
  private Derivation preferredDerivedKey() {
    return Derivation.AES_ECB_ENCRYPT_DATA;
  }

  @Override
  public WrappedKey generateBackingKey() {
    Step step = new Step("generate backing key");
    try {
      return connection.call(
          "generate backing key",
          session -> {
            step.enter(AdapterStep.FIND_DOMAIN_KEY);
            int generation = currentGeneration(session);
            long domainKey = domainKeys.handle(session, generation);
            BackingKeyUse use = domainKeys.backingKeyUse(session, generation);
            calls.before(step.enter(Pkcs11Function.C_GENERATE_KEY));
            long backingKey =
                session.generateKey(
                    new Mechanism(PKCS11Constants.CKM_AES_KEY_GEN),
                    KeyTemplates.newBackingKey(use));
            try {
              calls.before(step.enter(Pkcs11Function.C_WRAP_KEY));
              byte[] ekt =
                  session.wrapKey(
                      new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP), domainKey, backingKey);
              return new WrappedKey(generation, WrapMechanism.AES_KEY_WRAP, ekt);
            } finally {
              backingKeys.destroyQuietly(session, backingKey);
            }
          },
          true);
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map(step.label(), e);
    }
  }

  private int currentGeneration(Session session) throws PKCS11Exception {
    checkOpen();
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
    if (!runnable.contains(derivation)) {
      throw new HsmException("derivation " + derivation + " is not available on this token");
    }
    Step step = new Step("encrypt");
    try {
      return withKey(
          "encrypt",
          step,
          backingKey,
          derivation,
          salt,
          true,
          (session, key) -> {
            step.enter(Pkcs11Function.C_ENCRYPT);
            return gcmEncrypt(session, key, iv, aad, plaintext);
          });
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map(step.label(), e);
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
    if (ciphertextAndTag.length < TAG_LENGTH || !runnable.contains(derivation)) {
      throw new HsmDecryptionFailedException(Pkcs11Errors.DECRYPTION_FAILED);
    }
    Step step = new Step("decrypt");
    try {
      return withKey(
          "decrypt",
          step,
          backingKey,
          derivation,
          salt,
          false,
          (session, key) -> {
            calls.before(step.enter(Pkcs11Function.C_DECRYPT));
            return GcmEncryption.decrypt(session, key, iv, aad, ciphertextAndTag);
          });
    } catch (DerivationMismatch e) {
      throw new HsmDecryptionFailedException(Pkcs11Errors.DECRYPTION_FAILED);
    } catch (PKCS11Exception e) {
      if (step.is(Pkcs11Function.C_DECRYPT)) {
        throw Pkcs11Errors.mapDecrypt(e);
      }
      if (step.is(Pkcs11Function.C_UNWRAP_KEY)) {
        throw Pkcs11Errors.mapUnwrapForDecrypt(e);
      }
      throw Pkcs11Errors.map(step.label(), e);
    }
  }

  /** AES-GCM work with the key of one ciphertext. */
  @FunctionalInterface
  private interface KeyWork {
    byte[] run(Session session, long derivedKey) throws PKCS11Exception;
  }

  /**
   * Finds the domain key, unwraps (or borrows from the cache) the backing key, derives a one-use
   * key from it and the salt if {@code derivation} derives, runs {@code work} with the key (the
   * backing key itself for {@link Derivation#NONE_AES_GCM}), and destroys the derived key and
   * releases the backing key on every path. {@code step} names the token call in progress, so that
   * a failure is mapped by what it means there.
   */
  private byte[] withKey(
      String operation,
      Step step,
      WrappedKey backingKey,
      Derivation derivation,
      byte[] salt,
      boolean forEncrypt,
      KeyWork work)
      throws PKCS11Exception {
    return connection.call(
        operation,
        session -> {
          step.enter(AdapterStep.FIND_DOMAIN_KEY);
          int generation = backingKey.domainKeyGeneration();
          long domainKey = domainKeys.handle(session, generation);
          BackingKeyUse use = domainKeys.backingKeyUse(session, generation);
          if (use != usedBy(derivation)) {
            step.enter(AdapterStep.CHECK_DERIVATION);
            throw new DerivationMismatch();
          }
          step.enter(Pkcs11Function.C_UNWRAP_KEY);
          BackingKeys.Lease hbk = backingKeys.acquire(session, domainKey, use, backingKey);
          try {
            if (derivation == Derivation.NONE_AES_GCM) {
              return work.run(session, hbk.handle);
            }
            step.enter(Pkcs11Function.C_DERIVE_KEY);
            long key = derive(session, hbk.handle, salt, forEncrypt);
            try {
              return work.run(session, key);
            } finally {
              backingKeys.destroyQuietly(session, key);
            }
          } finally {
            backingKeys.release(session, hbk);
          }
        },
        true);
  }

  /** The backing key use a derivation needs. */
  private static BackingKeyUse usedBy(Derivation derivation) {
    return derivation == Derivation.NONE_AES_GCM ? BackingKeyUse.AES_GCM : BackingKeyUse.DERIVE;
  }

  /**
   * A ciphertext or a caller names a derivation the backing key's generation does not allow (a
   * derived ciphertext under a backing key that cannot derive, or the reverse).
   */
  private static final class DerivationMismatch extends HsmException {
    DerivationMismatch() {
      super("the derivation does not fit the backing key's domain key generation");
    }
  }

  private long derive(Session session, long hbk, byte[] salt, boolean forEncrypt)
      throws PKCS11Exception {
    calls.before(Pkcs11Function.C_DERIVE_KEY);
    Mechanism mechanism =
        new Mechanism(
            PKCS11Constants.CKM_AES_ECB_ENCRYPT_DATA, new KEY_DERIVATION_STRING_DATA(salt));
    return session.deriveKey(mechanism, hbk, RequestTemplates.derivedKey(forEncrypt));
  }

  /** AES-GCM encrypt, with the call this token encrypts correctly with. */
  private byte[] gcmEncrypt(Session session, long key, byte[] iv, byte[] aad, byte[] plaintext)
      throws PKCS11Exception {
    calls.before(Pkcs11Function.C_ENCRYPT);
    return capabilities.gcmEncryption().encrypt(session, key, iv, aad, plaintext);
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
      return connection.call(
          "random",
          session -> {
            calls.before(Pkcs11Function.C_GENERATE_RANDOM);
            return session.generateRandom(numberOfBytes);
          },
          true);
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map(Pkcs11Function.C_GENERATE_RANDOM, e);
    }
  }

  /**
   * Whether the token can be used now: one cheap token call (is the session still logged in?),
   * recovering first if it fails. Also evicts the cached backing keys past their age. Takes at most
   * about twice the call deadline.
   */
  @Override
  public void createSigningKeyIfAbsent(String label) {
    try {
      connection.call(
          "create signing key",
          session -> {
            checkOpen();
            if (session.findObjectsSingle(
                        KeyTemplates.signingKeyByLabel(
                            label, capabilities.marksGeneratedKeysLocal()),
                        1)
                    .length
                == 0) {
              calls.before(Pkcs11Function.C_GENERATE_KEY);
              session.generateKey(
                  new Mechanism(PKCS11Constants.CKM_GENERIC_SECRET_KEY_GEN),
                  KeyTemplates.signingKey(label));
              LOG.info("created signing key {}", label);
            }
            return null;
          },
          true);
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map(Pkcs11Function.C_GENERATE_KEY, e);
    }
  }

  @Override
  public byte[] sign(String label, byte[] data) {
    try {
      return connection.call(
          "sign",
          session -> {
            checkOpen();
            long[] found =
                session.findObjectsSingle(
                    KeyTemplates.signingKeyByLabel(label, capabilities.marksGeneratedKeysLocal()),
                    2);
            if (found.length != 1) {
              throw new HsmException(
                  found.length + " signing keys labelled " + label + " on the token; need one");
            }
            calls.before(Pkcs11Function.C_SIGN);
            return session.signSingle(
                new Mechanism(PKCS11Constants.CKM_SHA256_HMAC), found[0], data);
          },
          true);
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map(Pkcs11Function.C_SIGN, e);
    }
  }

  @Override
  public java.util.List<byte[]> readPrivateData(String label) {
    try {
      return connection.call(
          "read private data",
          session -> {
            checkOpen();
            return PrivateData.read(session, calls, label);
          },
          true);
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map(Pkcs11Function.C_GET_ATTRIBUTE_VALUE, e);
    }
  }

  @Override
  public void replacePrivateData(String label, byte[] value) {
    try {
      connection.call(
          "replace private data",
          session -> {
            checkOpen();
            PrivateData.replace(session, calls, label, value);
            return null;
          },
          true);
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map(Pkcs11Function.C_CREATE_OBJECT, e);
    }
  }

  @Override
  public boolean isHealthy() {
    if (closed.get()) {
      return false;
    }
    boolean healthy;
    try {
      healthy =
          connection.call(
              "health check",
              session -> {
                calls.before(Pkcs11Function.C_GET_SESSION_INFO);
                if (session.getSessionInfo().getState() != PKCS11Constants.CKS_RW_USER_FUNCTIONS) {
                  throw new PKCS11Exception(PKCS11Constants.CKR_USER_NOT_LOGGED_IN);
                }
                backingKeys.sweep(session);
                return true;
              },
              true);
    } catch (PKCS11Exception | HsmException e) {
      return false;
    }
    // Here, between the probe's calls, because the recycle briefly holds every call back.
    connection.recycleLibraryIfDue();
    return healthy;
  }

  /**
   * Times the PKCS#11 library was initialized afresh to free what it keeps of destroyed objects
   * ({@link LibraryRecycling}), since open.
   */
  public long libraryRecycles() {
    return connection.recycling().recycles();
  }

  @Override
  public int currentDomainKeyGeneration() {
    checkOpen();
    try {
      return connection.call(
          "scan domain keys",
          session -> {
            domainKeys.scan(session);
            return domainKeys.currentGeneration();
          },
          true);
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map("scan domain keys", e);
    }
  }

  @Override
  public WrappedKey rewrap(WrappedKey ekt, int toGeneration) {
    checkOpen();
    if (ekt == null || toGeneration < 1) {
      throw new IllegalArgumentException("an EKT and a generation of at least 1 are required");
    }
    Step step = new Step("rewrap");
    try {
      return connection.call(
          "rewrap",
          session -> {
            step.enter(AdapterStep.FIND_DOMAIN_KEY);
            long from = domainKeys.handle(session, ekt.domainKeyGeneration());
            long to = domainKeys.handle(session, toGeneration);
            BackingKeyUse use = domainKeys.backingKeyUse(session, ekt.domainKeyGeneration());
            if (use != domainKeys.backingKeyUse(session, toGeneration)) {
              throw new EktCannotMoveException(
                  "a backing key of domain key generation "
                      + ekt.domainKeyGeneration()
                      + " ("
                      + use
                      + ") cannot move to generation "
                      + toGeneration
                      + ", whose backing keys are "
                      + domainKeys.backingKeyUse(session, toGeneration));
            }
            return Rewrap.rewrap(
                session, calls, backingKeys, from, to, use, ekt, toGeneration, step);
          },
          true);
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map(step.label(), e);
    }
  }

  @Override
  public java.util.Set<KeyPairType> supportedKeyPairTypes() {
    java.util.Set<KeyPairType> probed = privateKeys.probed();
    if (probed != null) {
      return probed;
    }
    return asym("probe key pair types", (session, step) -> privateKeys.supported(session));
  }

  @Override
  public WrappedKeyPair generateKeyPair(KeyPairType type, PrivateKeyUsage usage) {
    AsymmetricChecks.keyPair(type, usage);
    return asym(
        "generate key pair",
        keyGenerationDeadline(type),
        (session, step) -> privateKeys.generateKeyPair(session, step, type, usage));
  }

  @Override
  public WrappedKey generateHmacKey(HmacType type) {
    AsymmetricChecks.require(type != null, "an HMAC type is required");
    return asym(
        "generate HMAC key", (session, step) -> privateKeys.generateHmacKey(session, step, type));
  }

  @Override
  public WrappedKey importHmacKey(byte[] value) {
    AsymmetricChecks.importHmac(value);
    return asym(
        "import HMAC key", (session, step) -> privateKeys.importHmacKey(session, step, value));
  }

  @Override
  public byte[] signDigest(
      WrappedKey privateKey,
      KeyPairType type,
      SignatureScheme scheme,
      DigestAlgorithm digest,
      byte[] digestValue) {
    AsymmetricChecks.sign(privateKey, type, scheme, digest, digestValue);
    return asym(
        "sign",
        (session, step) ->
            privateKeys.signDigest(session, step, privateKey, type, scheme, digest, digestValue));
  }

  /**
   * {@inheritDoc}
   *
   * <p>A ciphertext of the wrong length and one the token rejects give the same {@link
   * HsmDecryptionFailedException}; an EKT that does not unwrap is an internal fault (it came from
   * the key store, not the caller).
   */
  @Override
  public byte[] decryptOaep(
      WrappedKey privateKey, KeyPairType type, DigestAlgorithm oaepHash, byte[] ciphertext) {
    AsymmetricChecks.decrypt(privateKey, type, oaepHash, ciphertext);
    return asym(
        "decrypt",
        (session, step) ->
            privateKeys.decryptOaep(session, step, privateKey, type, oaepHash, ciphertext));
  }

  @Override
  public byte[] generateMac(WrappedKey hmacKey, HmacType type, byte[] message) {
    AsymmetricChecks.mac(hmacKey, type, message);
    return asym(
        "generate MAC",
        (session, step) -> privateKeys.generateMac(session, step, hmacKey, type, message));
  }

  @Override
  public DataKeyPair generateDataKeyPair(KeyPairType type) {
    AsymmetricChecks.require(type != null, "a key pair type is required");
    return asym(
        "generate data key pair",
        keyGenerationDeadline(type),
        (session, step) -> privateKeys.generateDataKeyPair(session, step, type));
  }

  /**
   * {@inheritDoc}
   *
   * <p>For the server's domain-key rotation: the EKTs of private and HMAC keys move to {@code
   * toGeneration}'s asymmetric domain key, as {@link #rewrap} moves HBKs to its domain key.
   */
  @Override
  public WrappedKey rewrapPrivateKey(
      WrappedKey ekt,
      KeyPairType typeOrNull,
      HmacType hmacOrNull,
      PrivateKeyUsage usageOrNull,
      int toGeneration) {
    AsymmetricChecks.rewrap(ekt, typeOrNull, hmacOrNull, usageOrNull, toGeneration);
    org.xipki.pkcs11.wrapper.AttributeVector template =
        hmacOrNull != null
            ? KeyTemplates.hmacKey(true)
            : KeyTemplates.privateKey(typeOrNull, usageOrNull, true);
    DomainKeyRole toRole = hmacOrNull != null ? DomainKeyRole.HMAC : DomainKeyRole.ASYMMETRIC;
    return asym(
        "rewrap private key",
        (session, step) -> privateKeys.rewrap(session, step, ekt, template, toGeneration, toRole));
  }

  @Override
  public ImportWrappingKey createImportWrappingKey(
      ImportWrappingAlgorithm algorithm, int modulusBits, java.time.Instant expiresAt) {
    AsymmetricChecks.require(algorithm != null, "a wrapping algorithm is required");
    AsymmetricChecks.require(
        modulusBits == 2048 || modulusBits == 3072 || modulusBits == 4096,
        "the wrapping key must be RSA 2048, 3072 or 4096 bits");
    AsymmetricChecks.require(expiresAt != null, "an expiry is required");
    return asym(
        "create import wrapping key",
        RSA_GENERATION_DEADLINE_FACTOR,
        (session, step) -> imports.create(session, step, algorithm, modulusBits, expiresAt));
  }

  @Override
  public WrappedKey importBackingKey(
      String wrappingKeyId, ImportWrappingAlgorithm algorithm, byte[] encryptedMaterial) {
    AsymmetricChecks.require(
        wrappingKeyId != null && algorithm != null && encryptedMaterial != null,
        "a wrapping key id, an algorithm and the encrypted material are required");
    return asym(
        "import key material",
        (session, step) ->
            imports.importBackingKey(session, step, wrappingKeyId, algorithm, encryptedMaterial));
  }

  @Override
  public boolean destroyImportWrappingKey(String wrappingKeyId) {
    return asym(
        "destroy import wrapping key", (session, step) -> imports.destroy(session, wrappingKeyId));
  }

  @Override
  public int destroyExpiredImportWrappingKeys(java.time.Instant now) {
    AsymmetricChecks.require(now != null, "a time is required");
    return asym(
        "destroy expired import wrapping keys",
        (session, step) -> imports.destroyExpired(session, now));
  }

  @Override
  public TransportKey regionTransportKey() {
    return asym(
        "region transport key",
        RSA_GENERATION_DEADLINE_FACTOR,
        (session, step) -> regions.transportKey(session, step));
  }

  @Override
  public RegionWrappedKey wrapForRegion(String region, WrappedKey ekt) {
    RegionTransfers.requireRegion(region);
    AsymmetricChecks.require(ekt != null, "a backing key is required");
    return asym("wrap for region", (session, step) -> regions.wrapFor(session, step, region, ekt));
  }

  @Override
  public WrappedKey receiveFromRegion(RegionWrappedKey sent) {
    AsymmetricChecks.require(sent != null, "a region-wrapped key is required");
    return asym("receive from region", (session, step) -> regions.receive(session, step, sent));
  }

  /** A token call of {@link PrivateKeys}, told the step it is in. */
  @FunctionalInterface
  private interface AsymWork<T> {
    T run(Session session, Step step) throws PKCS11Exception;
  }

  /**
   * Runs {@code work} through the connection (deadline, recovery, one retry) and maps a failure by
   * the step it happened in: a rejected ciphertext at C_Decrypt is a decryption failure.
   */
  private <T> T asym(String operation, AsymWork<T> work) {
    return asym(operation, 1, work);
  }

  /**
   * RSA key generation gets {@value #RSA_GENERATION_DEADLINE_FACTOR} call deadlines: SoftHSM2 takes
   * about a second for RSA-4096 on an idle machine and over ten on a loaded one.
   */
  private static int keyGenerationDeadline(KeyPairType type) {
    return type.isRsa() ? RSA_GENERATION_DEADLINE_FACTOR : 1;
  }

  private <T> T asym(String operation, int deadlineFactor, AsymWork<T> work) {
    checkOpen();
    Step step = new Step(operation);
    try {
      return connection.call(operation, session -> work.run(session, step), true, deadlineFactor);
    } catch (PKCS11Exception e) {
      if (step.is(Pkcs11Function.C_DECRYPT)) {
        throw Pkcs11Errors.mapDecrypt(e);
      }
      throw Pkcs11Errors.map(step.label(), e);
    }
  }

  /**
   * The number of objects the application sees on the token: token objects plus every session
   * object of this application, cached backing keys included. Tests compare it before and after a
   * run to prove that no key object leaks.
   */
  public int visibleObjectCount() {
    checkOpen();
    try {
      return connection.call(
          "count objects",
          session -> {
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
          },
          true);
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map("count objects", e);
    }
  }

  /** Pooled sessions borrowed now (a snapshot, for metrics). */
  public int sessionsInUse() {
    return connection.pool().inUseCount();
  }

  /** Callers waiting for a pooled session now (a snapshot, for metrics). */
  public int sessionsWaiting() {
    return connection.pool().waitingCount();
  }

  /** Requests whose backing key was in the cache, since open (for metrics). */
  public long backingKeyCacheHits() {
    return backingKeys.hits();
  }

  /** Requests that unwrapped their backing key with the cache on, since open (for metrics). */
  public long backingKeyCacheMisses() {
    return backingKeys.misses();
  }

  /** Unwrapped backing keys in the cache now. */
  public int cachedBackingKeyCount() {
    return backingKeys.size();
  }

  /**
   * Destroys every cached unwrapped backing key (one in use is destroyed when its request ends);
   * they are unwrapped again on next use.
   */
  public void evictCachedBackingKeys() {
    checkOpen();
    try {
      connection.call(
          "evict backing keys",
          session -> {
            backingKeys.evictAll(session);
            return null;
          },
          true);
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map("evict backing keys", e);
    }
  }

  /**
   * For tests only: runs {@code work} with a pooled, logged-in session, so that custody tests can
   * make raw PKCS#11 calls; no recovery, no retry. Not for production code, which must go through
   * {@link Hsm}.
   */
  <T> T withSessionForTest(TokenConnection.TokenWork<T> work) throws PKCS11Exception {
    checkOpen();
    return connection.call("test", work, false);
  }

  /** For tests only: the handle of {@code domain-key-asym/<generation>}. */
  long asymDomainKeyHandleForTest(Session session, int generation) throws PKCS11Exception {
    return domainKeys.asymHandle(session, generation);
  }

  /** For tests only: the handle of the domain key of {@code role} and {@code generation}. */
  long domainKeyHandleForTest(Session session, DomainKeyRole role, int generation)
      throws PKCS11Exception {
    return domainKeys.handle(session, role, generation);
  }

  /** For tests only: the handle of {@code domain-key/<generation>}. */
  long domainKeyHandleForTest(Session session, int generation) throws PKCS11Exception {
    return domainKeys.handle(session, generation);
  }

  /** For tests only: runs {@code work} while no call is in flight (injects real faults). */
  void exclusiveForTest(TokenConnection.ExclusiveWork work) throws Exception {
    checkOpen();
    connection.exclusive(work);
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new HsmUnavailableException("the HSM adapter is closed");
    }
  }

  /**
   * Closes the sessions (destroying the cached backing keys), logs out and finalizes the module if
   * no one else uses it. A call still hung in the library after the deadline keeps the module
   * initialized.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    connection.close();
    if (connection.closedCleanly()) {
      Pkcs11Modules.release(config.modulePath());
    } else {
      LOG.warn(
          "token {}: a call was still running at close; module left loaded", config.tokenLabel());
    }
    LOG.info("closed token {}", config.tokenLabel());
  }
}
