package io.p11kms.hsm.keys;

import io.p11kms.hsm.DigestAlgorithm;
import io.p11kms.hsm.HsmDecryptionFailedException;
import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.ImportUnsupportedException;
import io.p11kms.hsm.ImportWrappingAlgorithm;
import io.p11kms.hsm.ImportWrappingKey;
import io.p11kms.hsm.ImportWrappingKeyNotFoundException;
import io.p11kms.hsm.ImportedMaterialLengthException;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.WrapMechanism;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.hsm.diagnostics.PaddedKeyWrap;
import io.p11kms.hsm.domain.DomainKeys;
import io.p11kms.hsm.session.AdapterStep;
import io.p11kms.hsm.session.Calls;
import io.p11kms.hsm.session.Pkcs11Errors;
import io.p11kms.hsm.session.Pkcs11Function;
import io.p11kms.hsm.session.Step;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.spec.RSAPublicKeySpec;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.KeyPairTemplate;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11KeyPair;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.params.RSA_PKCS_OAEP_PARAMS;

/**
 * Imported key material, for {@link Pkcs11Hsm}: the RSA wrapping key pair made in the token, and
 * the import itself, which unwraps the customer's material inside the token straight into a backing
 * key (RSAES-OAEP; or for RSA-AES key wrap, the ephemeral AES key first and the material under it
 * with RFC 5649, by the mechanism that reads it on this token, both in the token), wraps it under
 * the current domain key and destroys every session object it made in {@code finally}.
 *
 * <p>Why the wrapping private key is a token object labelled {@code p11kms-import/<expiry>/<uuid>}:
 * it must outlive a restart for the 24 hours the parameters are valid, and it cannot be kept as an
 * EKT (no domain key may wrap a key that can unwrap). The expiry in the label lets {@link
 * #destroyExpired} find what is due without any other record, orphans of a crash included.
 */
public final class KeyImports {
  static final String LABEL_PREFIX = "p11kms-import/";

  /** Bytes of the material of a SYMMETRIC_DEFAULT key. */
  static final int MATERIAL_BYTES = KeyTemplates.AES_256_BYTES;

  private static final Pattern ID = Pattern.compile("([0-9]{1,19})/([0-9a-f-]{36})");

  /** What the token answers to an OAEP hash it does not do, before it looks at the data. */
  private static final Set<Long> PARAMETERS_REFUSED =
      Set.of(
          PKCS11Constants.CKR_ARGUMENTS_BAD,
          PKCS11Constants.CKR_MECHANISM_PARAM_INVALID,
          PKCS11Constants.CKR_MECHANISM_INVALID);

  /** What the token answers to wrapped bytes that do not unwrap under the key. */
  private static final Set<Long> NOT_UNWRAPPABLE =
      Set.of(
          PKCS11Constants.CKR_GENERAL_ERROR,
          PKCS11Constants.CKR_ENCRYPTED_DATA_INVALID,
          PKCS11Constants.CKR_ENCRYPTED_DATA_LEN_RANGE,
          PKCS11Constants.CKR_WRAPPED_KEY_INVALID,
          PKCS11Constants.CKR_WRAPPED_KEY_LEN_RANGE,
          PKCS11Constants.CKR_DATA_INVALID,
          PKCS11Constants.CKR_DATA_LEN_RANGE);

  private final Calls calls;
  private final DomainKeys domainKeys;
  private final BackingKeys backingKeys;
  private final PrivateKeys.Generation generation;
  private final Set<Long> mechanisms;
  private final PaddedKeyWrap padded;

  /** Whether the token unwraps with RSAES-OAEP of this hash, probed on first use. */
  private final Map<DigestAlgorithm, Boolean> oaepUnwraps = new ConcurrentHashMap<>();

  public KeyImports(
      Calls calls,
      DomainKeys domainKeys,
      BackingKeys backingKeys,
      PrivateKeys.Generation generation,
      long[] mechanisms,
      PaddedKeyWrap padded) {
    this.calls = calls;
    this.padded = padded;
    this.domainKeys = domainKeys;
    this.backingKeys = backingKeys;
    this.generation = generation;
    this.mechanisms = LongStream.of(mechanisms).boxed().collect(Collectors.toSet());
  }

  /**
   * Generates the wrapping key pair; the private half stays as a token object until {@link
   * #destroy} or {@link #destroyExpired}, the public half is read and destroyed.
   *
   * @throws ImportUnsupportedException when the token cannot unwrap {@code algorithm} inside itself
   */
  public ImportWrappingKey create(
      Session session, Step step, ImportWrappingAlgorithm algorithm, int bits, Instant expiresAt)
      throws PKCS11Exception {
    requireMechanisms(algorithm);
    if (Boolean.FALSE.equals(oaepUnwraps.get(algorithm.oaepHash()))) {
      throw refused(algorithm);
    }
    step.enter(AdapterStep.FIND_DOMAIN_KEY);
    requireAesGcmGeneration(session);
    String id = expiresAt.getEpochSecond() + "/" + UUID.randomUUID();
    calls.before(step.enter(Pkcs11Function.C_GENERATE_KEY_PAIR));
    PKCS11KeyPair pair =
        session.generateKeyPair(
            new Mechanism(PKCS11Constants.CKM_RSA_PKCS_KEY_PAIR_GEN),
            new KeyPairTemplate(
                WrappingKeyTemplates.importWrappingPrivateKey(LABEL_PREFIX + id, algorithm),
                WrappingKeyTemplates.importWrappingPublicKey(bits)));
    boolean kept = false;
    try {
      step.enter(Pkcs11Function.C_GET_ATTRIBUTE_VALUE);
      byte[] spki = subjectPublicKeyInfo(session, pair.getPublicKey());
      step.enter(AdapterStep.PROBE_OAEP);
      if (!unwrapsWith(session, pair.getPrivateKey(), algorithm, bits)) {
        throw refused(algorithm);
      }
      kept = true;
      return new ImportWrappingKey(id, algorithm, expiresAt, spki);
    } finally {
      backingKeys.destroyQuietly(session, pair.getPublicKey());
      if (!kept) {
        backingKeys.destroyQuietly(session, pair.getPrivateKey());
      }
    }
  }

  /**
   * Unwraps {@code encrypted} with the wrapping key {@code id} into a backing key inside the token
   * and returns it wrapped under the current domain key. The wrapping key stays (the caller
   * destroys it once the import is stored).
   *
   * @throws ImportWrappingKeyNotFoundException when no wrapping key {@code id} is on the token
   * @throws HsmDecryptionFailedException when {@code encrypted} does not unwrap under it
   * @throws ImportedMaterialLengthException when it unwraps to material that is not 256 bits
   */
  public WrappedKey importBackingKey(
      Session session, Step step, String id, ImportWrappingAlgorithm algorithm, byte[] encrypted)
      throws PKCS11Exception {
    requireMechanisms(algorithm);
    step.enter(AdapterStep.FIND_IMPORT_WRAPPING_KEY);
    long wrappingKey = find(session, id);
    return land(session, step, wrappingKey, algorithm, encrypted);
  }

  /**
   * Unwraps {@code encrypted} with the RSA private key {@code wrappingKey} (whose UNWRAP_TEMPLATE
   * makes it a backing key) inside the token and returns it wrapped under the current domain key;
   * the unwrapped key is destroyed. What an import and a replica from another region share.
   *
   * @throws HsmDecryptionFailedException when {@code encrypted} does not unwrap under the key
   * @throws ImportedMaterialLengthException when it unwraps to material that is not 256 bits
   */
  public WrappedKey land(
      Session session,
      Step step,
      long wrappingKey,
      ImportWrappingAlgorithm algorithm,
      byte[] encrypted)
      throws PKCS11Exception {
    step.enter(AdapterStep.FIND_DOMAIN_KEY);
    int current = requireAesGcmGeneration(session);
    long domainKey = domainKeys.handle(session, current);
    step.enter(Pkcs11Function.C_UNWRAP_KEY);
    long material = unwrapMaterial(session, wrappingKey, algorithm, encrypted);
    try {
      calls.before(step.enter(Pkcs11Function.C_WRAP_KEY));
      byte[] ekt =
          session.wrapKey(new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP), domainKey, material);
      // RFC 3394 adds 8 bytes: the EKT tells the material's length, which the token does not
      // report for an unwrapped key (SoftHSM2 leaves CKA_VALUE_LEN at 0).
      if (ekt.length != MATERIAL_BYTES + 8) {
        throw new ImportedMaterialLengthException(
            "the key material is "
                + Math.max(0, ekt.length - 8) * 8
                + " bits; a SYMMETRIC_DEFAULT key takes 256 bits");
      }
      return new WrappedKey(current, WrapMechanism.AES_KEY_WRAP, ekt);
    } finally {
      backingKeys.destroyQuietly(session, material);
    }
  }

  /** Destroys the wrapping key {@code id}; false when there was none. */
  public boolean destroy(Session session, String id) throws PKCS11Exception {
    Matcher m = ID.matcher(id == null ? "" : id);
    if (!m.matches()) {
      return false;
    }
    calls.before(Pkcs11Function.C_FIND_OBJECTS);
    long[] found =
        session.findObjectsSingle(
            WrappingKeyTemplates.importWrappingKeyByLabel(LABEL_PREFIX + id), 8);
    for (long handle : found) {
      calls.before(Pkcs11Function.C_DESTROY_OBJECT);
      session.destroyObject(handle);
    }
    return found.length > 0;
  }

  /** Destroys every wrapping key whose expiry has come by {@code now}; returns how many. */
  public int destroyExpired(Session session, Instant now) throws PKCS11Exception {
    calls.before(Pkcs11Function.C_FIND_OBJECTS);
    int destroyed = 0;
    for (long handle : session.findAllObjectsSingle(WrappingKeyTemplates.tokenPrivateKeys())) {
      calls.before(Pkcs11Function.C_GET_ATTRIBUTE_VALUE);
      String label = session.getStringAttrValue(handle, PKCS11Constants.CKA_LABEL);
      if (label == null || !label.startsWith(LABEL_PREFIX)) {
        continue;
      }
      Matcher m = ID.matcher(label.substring(LABEL_PREFIX.length()));
      if (m.matches() && !Instant.ofEpochSecond(Long.parseLong(m.group(1))).isAfter(now)) {
        calls.before(Pkcs11Function.C_DESTROY_OBJECT);
        session.destroyObject(handle);
        destroyed++;
      }
    }
    return destroyed;
  }

  private long find(Session session, String id) throws PKCS11Exception {
    if (id == null || !ID.matcher(id).matches()) {
      throw new ImportWrappingKeyNotFoundException("not an import wrapping key id");
    }
    calls.before(Pkcs11Function.C_FIND_OBJECTS);
    long[] found =
        session.findObjectsSingle(
            WrappingKeyTemplates.importWrappingKeyByLabel(LABEL_PREFIX + id), 2);
    if (found.length != 1) {
      throw new ImportWrappingKeyNotFoundException(
          "no import wrapping key " + id + " on this token: used, expired, or made on another");
    }
    return found[0];
  }

  /**
   * The material as a session backing key (extractable, to be wrapped under the domain key at once;
   * sensitive and wrappable only by a trusted key, as the wrapping key's UNWRAP_TEMPLATE forces).
   */
  private long unwrapMaterial(
      Session session, long wrappingKey, ImportWrappingAlgorithm algorithm, byte[] encrypted)
      throws PKCS11Exception {
    AttributeVector backingKey = KeyTemplates.rewrappableBackingKey(BackingKeyUse.AES_GCM);
    Mechanism oaep = oaep(algorithm.oaepHash());
    if (!algorithm.ephemeralAesKey()) {
      return unwrapOrFail(session, oaep, wrappingKey, encrypted, backingKey);
    }
    int rsaBytes = modulusBytes(session, wrappingKey);
    if (encrypted.length <= rsaBytes) {
      throw new HsmDecryptionFailedException(Pkcs11Errors.DECRYPTION_FAILED);
    }
    long ephemeral =
        unwrapOrFail(
            session,
            oaep,
            wrappingKey,
            Arrays.copyOfRange(encrypted, 0, rsaBytes),
            WrappingKeyTemplates.ephemeralImportKey());
    try {
      return unwrapOrFail(
          session,
          new Mechanism(padded.unwrapMechanism(WrapMechanism.AES_KEY_WRAP_PAD)),
          ephemeral,
          Arrays.copyOfRange(encrypted, rsaBytes, encrypted.length),
          backingKey);
    } finally {
      backingKeys.destroyQuietly(session, ephemeral);
    }
  }

  private long unwrapOrFail(
      Session session, Mechanism mechanism, long key, byte[] wrapped, AttributeVector template)
      throws PKCS11Exception {
    calls.before(Pkcs11Function.C_UNWRAP_KEY);
    try {
      return session.unwrapKey(mechanism, key, wrapped, template);
    } catch (PKCS11Exception e) {
      if (NOT_UNWRAPPABLE.contains(e.getErrorCode())) {
        throw new HsmDecryptionFailedException(Pkcs11Errors.DECRYPTION_FAILED);
      }
      throw e;
    }
  }

  /**
   * Whether the token unwraps with RSAES-OAEP of {@code algorithm}'s hash: SoftHSM2 2.6.1 refuses
   * every hash but SHA-1 in the mechanism's parameters. Probed once per hash with an all-zero
   * ciphertext: a token that takes the parameters fails on the data instead.
   */
  private boolean unwrapsWith(
      Session session, long privateKey, ImportWrappingAlgorithm algorithm, int bits)
      throws PKCS11Exception {
    DigestAlgorithm hash = algorithm.oaepHash();
    Boolean known = oaepUnwraps.get(hash);
    if (known != null) {
      return known;
    }
    AttributeVector template =
        algorithm.ephemeralAesKey()
            ? WrappingKeyTemplates.ephemeralImportKey()
            : KeyTemplates.rewrappableBackingKey(BackingKeyUse.AES_GCM);
    boolean unwraps;
    calls.before(Pkcs11Function.C_UNWRAP_KEY);
    try {
      long unexpected = session.unwrapKey(oaep(hash), privateKey, new byte[bits / 8], template);
      backingKeys.destroyQuietly(session, unexpected);
      unwraps = true;
    } catch (PKCS11Exception e) {
      if (Pkcs11Errors.recoveryFor(e.getErrorCode()) != Pkcs11Errors.Recovery.NONE) {
        throw e;
      }
      unwraps = !PARAMETERS_REFUSED.contains(e.getErrorCode());
    }
    oaepUnwraps.put(hash, unwraps);
    return unwraps;
  }

  private int requireAesGcmGeneration(Session session) throws PKCS11Exception {
    int current = generation.current(session);
    if (domainKeys.backingKeyUse(session, current) != BackingKeyUse.AES_GCM) {
      throw new HsmException(
          "domain key generation "
              + current
              + " was made by an earlier ceremony; rotate the domain key before importing");
    }
    return current;
  }

  private void requireMechanisms(ImportWrappingAlgorithm algorithm) {
    boolean offered =
        mechanisms.contains(PKCS11Constants.CKM_RSA_PKCS_KEY_PAIR_GEN)
            && mechanisms.contains(PKCS11Constants.CKM_RSA_PKCS_OAEP)
            && (!algorithm.ephemeralAesKey() || padded.readsRfc5649());
    if (!offered) {
      throw refused(algorithm);
    }
  }

  private static ImportUnsupportedException refused(ImportWrappingAlgorithm algorithm) {
    return new ImportUnsupportedException(
        "this token cannot unwrap " + algorithm + " inside itself");
  }

  private int modulusBytes(Session session, long privateKey) throws PKCS11Exception {
    calls.before(Pkcs11Function.C_GET_ATTRIBUTE_VALUE);
    BigInteger modulus = session.getAttrValues(privateKey, PKCS11Constants.CKA_MODULUS).modulus();
    if (modulus == null) {
      throw new HsmException("the token returned no modulus for the import wrapping key");
    }
    return (modulus.bitLength() + 7) / 8;
  }

  private byte[] subjectPublicKeyInfo(Session session, long publicKey) throws PKCS11Exception {
    calls.before(Pkcs11Function.C_GET_ATTRIBUTE_VALUE);
    AttributeVector a =
        session.getAttrValues(
            publicKey, PKCS11Constants.CKA_MODULUS, PKCS11Constants.CKA_PUBLIC_EXPONENT);
    if (a.modulus() == null || a.publicExponent() == null) {
      throw new HsmException("the token returned no RSA public key");
    }
    try {
      return KeyFactory.getInstance("RSA")
          .generatePublic(new RSAPublicKeySpec(a.modulus(), a.publicExponent()))
          .getEncoded();
    } catch (GeneralSecurityException e) {
      throw new HsmException("cannot encode the RSA public key: " + e.getClass().getSimpleName());
    }
  }

  private static Mechanism oaep(DigestAlgorithm hash) {
    return new Mechanism(
        PKCS11Constants.CKM_RSA_PKCS_OAEP,
        new RSA_PKCS_OAEP_PARAMS(PrivateKeys.hashMechanism(hash), PrivateKeys.mgf1(hash)));
  }
}
