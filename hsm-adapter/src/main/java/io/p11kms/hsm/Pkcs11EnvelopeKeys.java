package io.p11kms.hsm;

import io.p11kms.hsm.diagnostics.GcmEncryption;
import io.p11kms.hsm.diagnostics.MechanismProbe;
import io.p11kms.hsm.diagnostics.TokenCapabilities;
import io.p11kms.hsm.domain.DomainKeys;
import io.p11kms.hsm.keys.BackingKeyUse;
import io.p11kms.hsm.keys.BackingKeys;
import io.p11kms.hsm.keys.KeyTemplates;
import io.p11kms.hsm.keys.RequestTemplates;
import io.p11kms.hsm.session.AdapterStep;
import io.p11kms.hsm.session.Calls;
import io.p11kms.hsm.session.Pkcs11Errors;
import io.p11kms.hsm.session.Pkcs11Function;
import io.p11kms.hsm.session.Step;
import io.p11kms.hsm.session.TokenConnection;
import java.util.EnumSet;
import java.util.Set;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.params.KEY_DERIVATION_STRING_DATA;

/**
 * {@link EnvelopeKeys} over a PKCS#11 token.
 *
 * <p>Every request runs AES-GCM under the backing key (HBK) itself, or, for a backing key of a
 * domain key generation made before that, derives a one-use key from the HBK and the salt and
 * destroys it in {@code finally} ({@link Derivation}). The HBK comes from a bounded cache of
 * unwrapped HBKs ({@link BackingKeys}), or is unwrapped under its domain key for this request and
 * destroyed after.
 */
final class Pkcs11EnvelopeKeys implements EnvelopeKeys {
  private static final int MAX_RANDOM_BYTES = 1024;

  private final HsmConfig config;
  private final TokenConnection connection;
  private final Calls calls;
  private final DomainKeys domainKeys;
  private final BackingKeys backingKeys;
  private final Derivation preferred;
  private final TokenCapabilities capabilities;
  // Whether the token runs each derivation, decided once from its mechanism list.
  private final Set<Derivation> runnable = EnumSet.noneOf(Derivation.class);

  Pkcs11EnvelopeKeys(
      HsmConfig config,
      TokenConnection connection,
      Derivation preferred,
      TokenCapabilities capabilities,
      long[] mechanisms) {
    this.config = config;
    this.connection = connection;
    this.calls = connection.calls();
    this.domainKeys = connection.domainKeys();
    this.backingKeys = connection.backingKeys();
    this.preferred = preferred;
    this.capabilities = capabilities;
    for (Derivation d : Derivation.values()) {
      if (MechanismProbe.canRun(d, mechanisms)) {
        runnable.add(d);
      }
    }
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
      connection.checkOpen();
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

  /**
   * The domain key generation new keys are wrapped under: the newest on the token, looked for if
   * none is known yet.
   *
   * @throws HsmException when the token holds no domain key
   */
  int currentGeneration(Session session) throws PKCS11Exception {
    connection.checkOpen();
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

  /** {@inheritDoc} The IV and the encryption are one call on one session: one hand-off. */
  @Override
  public byte[] encryptWithTokenIv(WrappedKey backingKey, byte[] aad, byte[] plaintext) {
    byte[] noSalt = new byte[SALT_LENGTH];
    checkArguments(backingKey, Derivation.NONE_AES_GCM, noSalt, new byte[IV_LENGTH]);
    if (plaintext == null) {
      throw new IllegalArgumentException("plaintext is required");
    }
    if (!runnable.contains(Derivation.NONE_AES_GCM)) {
      throw new HsmException("AES-GCM under a backing key is not available on this token");
    }
    Step step = new Step("encrypt");
    try {
      return withKey(
          "encrypt",
          step,
          backingKey,
          Derivation.NONE_AES_GCM,
          noSalt,
          true,
          (session, key) -> {
            calls.before(step.enter(Pkcs11Function.C_GENERATE_RANDOM));
            byte[] iv = session.generateRandom(IV_LENGTH);
            step.enter(Pkcs11Function.C_ENCRYPT);
            byte[] sealed = gcmEncrypt(session, key, iv, aad, plaintext);
            byte[] out = new byte[IV_LENGTH + sealed.length];
            System.arraycopy(iv, 0, out, 0, IV_LENGTH);
            System.arraycopy(sealed, 0, out, IV_LENGTH, sealed.length);
            return out;
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
}
