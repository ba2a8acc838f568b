package io.p11kms.hsm;

import io.p11kms.hsm.diagnostics.TokenCapabilities;
import io.p11kms.hsm.domain.DomainKeyRole;
import io.p11kms.hsm.domain.TransportKey;
import io.p11kms.hsm.session.Calls;
import io.p11kms.hsm.session.LibraryRecycling;
import io.p11kms.hsm.session.Pkcs11Modules;
import io.p11kms.hsm.session.SessionPool;
import io.p11kms.hsm.session.StandbyLibrary;
import io.p11kms.hsm.session.TokenConnection;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/**
 * {@link Hsm} over a PKCS#11 token, through ipkcs11wrapper: opens the token ({@link TokenOpening})
 * and hands each request to the part that does its job ({@link Pkcs11EnvelopeKeys}, {@link
 * Pkcs11AsymmetricKeys}, {@link Pkcs11KeyImport}, {@link Pkcs11RegionTransport}, {@link
 * Pkcs11Administration}); also the figures for metrics and the hooks for tests.
 *
 * <p>Thread-safe: each request borrows its own session from a bounded {@link SessionPool}, within a
 * deadline; a {@link TokenConnection} recovers from lost logins, lost sessions and device faults
 * and retries the request once. Every request is idempotent from the caller's view: encrypt,
 * decrypt and random change nothing, and {@link #generateBackingKey()} stores nothing (a retried
 * one makes a second HBK, returns only that one, and the first never left the token).
 */
public final class Pkcs11Hsm implements Hsm {
  private static final Logger LOG = LoggerFactory.getLogger(Pkcs11Hsm.class);

  private final HsmConfig config;
  private final TokenConnection connection;
  private final TokenCapabilities capabilities;
  private final Pkcs11EnvelopeKeys envelope;
  private final Pkcs11AsymmetricKeys asymmetric;
  private final Pkcs11KeyImport imports;
  private final Pkcs11RegionTransport regions;
  private final Pkcs11Administration administration;
  private final AtomicBoolean closed = new AtomicBoolean();

  private Pkcs11Hsm(HsmConfig config, TokenOpening.Opened opened) {
    this.config = config;
    this.connection = opened.connection();
    this.capabilities = opened.capabilities();
    this.envelope = opened.envelope();
    this.asymmetric = opened.asymmetric();
    this.imports = opened.imports();
    this.regions = opened.regions();
    this.administration = opened.administration();
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
  public static Pkcs11Hsm open(
      HsmConfig config, TokenCallInterceptor interceptor, StandbyLibrary.Loader standbyLoader) {
    return new Pkcs11Hsm(config, TokenOpening.open(config, interceptor, standbyLoader));
  }

  /** What this token was found to do where tokens differ, probed at open. */
  public TokenCapabilities capabilities() {
    return capabilities;
  }

  /**
   * Times the PKCS#11 library was initialized afresh to free what it keeps of destroyed objects
   * ({@link LibraryRecycling}), since open.
   */
  public long libraryRecycles() {
    return connection.recycling().recycles();
  }

  /**
   * The number of objects the application sees on the token: token objects plus every session
   * object of this application, cached backing keys included. Tests compare it before and after a
   * run to prove that no key object leaks.
   */
  public int visibleObjectCount() {
    return administration.visibleObjectCount();
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
    return connection.backingKeys().hits();
  }

  /** Requests that unwrapped their backing key with the cache on, since open (for metrics). */
  public long backingKeyCacheMisses() {
    return connection.backingKeys().misses();
  }

  /** Unwrapped backing keys in the cache now. */
  public int cachedBackingKeyCount() {
    return connection.backingKeys().size();
  }

  /**
   * Destroys every cached unwrapped backing key (one in use is destroyed when its request ends);
   * they are unwrapped again on next use.
   */
  public void evictCachedBackingKeys() {
    administration.evictCachedBackingKeys();
  }

  /**
   * For tests only: runs {@code work} with a pooled, logged-in session, so that custody tests can
   * make raw PKCS#11 calls; no recovery, no retry. Not for production code, which must go through
   * {@link Hsm}.
   */
  public <T> T withSessionForTest(TokenConnection.TokenWork<T> work) throws PKCS11Exception {
    connection.checkOpen();
    return connection.call("test", work, false);
  }

  /** For tests only: the handle of {@code domain-key-asym/<generation>}. */
  public long asymDomainKeyHandleForTest(Session session, int generation) throws PKCS11Exception {
    return connection.domainKeys().asymHandle(session, generation);
  }

  /** For tests only: the handle of the domain key of {@code role} and {@code generation}. */
  public long domainKeyHandleForTest(Session session, DomainKeyRole role, int generation)
      throws PKCS11Exception {
    return connection.domainKeys().handle(session, role, generation);
  }

  /** For tests only: the handle of {@code domain-key/<generation>}. */
  public long domainKeyHandleForTest(Session session, int generation) throws PKCS11Exception {
    return connection.domainKeys().handle(session, generation);
  }

  /** For tests only: the calls seam of this connection (what test-built parts call through). */
  public Calls callsForTest() {
    return connection.calls();
  }

  /** For tests only: runs {@code work} while no call is in flight (injects real faults). */
  void exclusiveForTest(TokenConnection.ExclusiveWork work) throws Exception {
    connection.checkOpen();
    connection.exclusive(work);
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

  @Override
  public Derivation preferredDerivation() {
    return envelope.preferredDerivation();
  }

  @Override
  public Derivation derivationFor(WrappedKey backingKey) {
    return envelope.derivationFor(backingKey);
  }

  @Override
  public WrappedKey generateBackingKey() {
    return envelope.generateBackingKey();
  }

  @Override
  public byte[] encrypt(
      WrappedKey backingKey,
      Derivation derivation,
      byte[] salt,
      byte[] iv,
      byte[] aad,
      byte[] plaintext) {
    return envelope.encrypt(backingKey, derivation, salt, iv, aad, plaintext);
  }

  @Override
  public byte[] encryptWithTokenIv(WrappedKey backingKey, byte[] aad, byte[] plaintext) {
    return envelope.encryptWithTokenIv(backingKey, aad, plaintext);
  }

  @Override
  public byte[] decrypt(
      WrappedKey backingKey,
      Derivation derivation,
      byte[] salt,
      byte[] iv,
      byte[] aad,
      byte[] ciphertextAndTag) {
    return envelope.decrypt(backingKey, derivation, salt, iv, aad, ciphertextAndTag);
  }

  @Override
  public byte[] generateRandom(int numberOfBytes) {
    return envelope.generateRandom(numberOfBytes);
  }

  @Override
  public Set<KeyPairType> supportedKeyPairTypes() {
    return asymmetric.supportedKeyPairTypes();
  }

  @Override
  public WrappedKeyPair generateKeyPair(KeyPairType type, PrivateKeyUsage usage) {
    return asymmetric.generateKeyPair(type, usage);
  }

  @Override
  public WrappedKey generateHmacKey(HmacType type) {
    return asymmetric.generateHmacKey(type);
  }

  @Override
  public WrappedKey importHmacKey(byte[] value) {
    return asymmetric.importHmacKey(value);
  }

  @Override
  public byte[] signDigest(
      WrappedKey privateKey,
      KeyPairType type,
      SignatureScheme scheme,
      DigestAlgorithm digest,
      byte[] digestValue) {
    return asymmetric.signDigest(privateKey, type, scheme, digest, digestValue);
  }

  @Override
  public byte[] decryptOaep(
      WrappedKey privateKey, KeyPairType type, DigestAlgorithm oaepHash, byte[] ciphertext) {
    return asymmetric.decryptOaep(privateKey, type, oaepHash, ciphertext);
  }

  @Override
  public byte[] generateMac(WrappedKey hmacKey, HmacType type, byte[] message) {
    return asymmetric.generateMac(hmacKey, type, message);
  }

  @Override
  public DataKeyPair generateDataKeyPair(KeyPairType type) {
    return asymmetric.generateDataKeyPair(type);
  }

  @Override
  public WrappedKey rewrapPrivateKey(
      WrappedKey ekt,
      KeyPairType typeOrNull,
      HmacType hmacOrNull,
      PrivateKeyUsage usageOrNull,
      int toGeneration) {
    return asymmetric.rewrapPrivateKey(ekt, typeOrNull, hmacOrNull, usageOrNull, toGeneration);
  }

  @Override
  public ImportWrappingKey createImportWrappingKey(
      ImportWrappingAlgorithm algorithm, int modulusBits, Instant expiresAt) {
    return imports.createImportWrappingKey(algorithm, modulusBits, expiresAt);
  }

  @Override
  public WrappedKey importBackingKey(
      String wrappingKeyId, ImportWrappingAlgorithm algorithm, byte[] encryptedMaterial) {
    return imports.importBackingKey(wrappingKeyId, algorithm, encryptedMaterial);
  }

  @Override
  public boolean destroyImportWrappingKey(String wrappingKeyId) {
    return imports.destroyImportWrappingKey(wrappingKeyId);
  }

  @Override
  public int destroyExpiredImportWrappingKeys(Instant now) {
    return imports.destroyExpiredImportWrappingKeys(now);
  }

  @Override
  public TokenIdentity identity() {
    return administration.identity();
  }

  @Override
  public void createSigningKeyIfAbsent(String label) {
    administration.createSigningKeyIfAbsent(label);
  }

  @Override
  public byte[] sign(String label, byte[] data) {
    return administration.sign(label, data);
  }

  @Override
  public java.util.List<byte[]> readPrivateData(String label) {
    return administration.readPrivateData(label);
  }

  @Override
  public void replacePrivateData(String label, byte[] value) {
    administration.replacePrivateData(label, value);
  }

  @Override
  public boolean isHealthy() {
    return administration.isHealthy();
  }

  @Override
  public int currentDomainKeyGeneration() {
    return administration.currentDomainKeyGeneration();
  }

  @Override
  public WrappedKey rewrap(WrappedKey ekt, int toGeneration) {
    return administration.rewrap(ekt, toGeneration);
  }

  @Override
  public TransportKey regionTransportKey() {
    return regions.regionTransportKey();
  }

  @Override
  public RegionWrappedKey wrapForRegion(String region, WrappedKey ekt) {
    return regions.wrapForRegion(region, ekt);
  }

  @Override
  public WrappedKey receiveFromRegion(RegionWrappedKey sent) {
    return regions.receiveFromRegion(sent);
  }
}
