package io.p11kms.hsm.keys;

import io.p11kms.hsm.DataKeyPair;
import io.p11kms.hsm.DigestAlgorithm;
import io.p11kms.hsm.HmacType;
import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.KeyPairType;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.PrivateKeyUsage;
import io.p11kms.hsm.SignatureScheme;
import io.p11kms.hsm.WrapMechanism;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.hsm.WrappedKeyPair;
import io.p11kms.hsm.diagnostics.PaddedKeyWrap;
import io.p11kms.hsm.domain.DomainKeyRole;
import io.p11kms.hsm.domain.DomainKeys;
import io.p11kms.hsm.session.AdapterStep;
import io.p11kms.hsm.session.Calls;
import io.p11kms.hsm.session.Pkcs11Function;
import io.p11kms.hsm.session.Step;
import io.p11kms.hsm.session.TokenConnection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11KeyPair;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.params.RSA_PKCS_OAEP_PARAMS;
import org.xipki.pkcs11.wrapper.params.RSA_PKCS_PSS_PARAMS;

/**
 * Private and HMAC keys in the token, for {@link Pkcs11Hsm}: generated as session objects and
 * wrapped at once with CKM_AES_KEY_WRAP_PAD under the domain key of their role ({@code
 * domain-key-asym/<n>} for private keys, {@code domain-key-hmac/<n>} for HMAC keys; an HMAC key
 * made before the latter existed stays under the former until a rotation moves it); unwrapped as
 * session objects for one operation and destroyed in {@code finally}. Every method runs inside a
 * {@link TokenConnection#call}, so deadlines, recovery and the interceptor apply as to the rest.
 */
public final class PrivateKeys {
  private static final long KWP = PKCS11Constants.CKM_AES_KEY_WRAP_PAD;

  /** Where the token stands on new keys: the current domain key generation. */
  @FunctionalInterface
  public interface Generation {
    int current(Session session) throws PKCS11Exception;
  }

  private final Calls calls;
  private final DomainKeys domainKeys;
  private final BackingKeys backingKeys;
  private final Generation generation;
  private final PaddedKeyWrap padded;
  private final Set<DigestAlgorithm> nativeOaepRefused =
      Collections.synchronizedSet(EnumSet.noneOf(DigestAlgorithm.class));
  private final KeyPairs pairs;
  private final KeyPairProbe probe;

  public PrivateKeys(
      Calls calls,
      DomainKeys domainKeys,
      BackingKeys backingKeys,
      Generation generation,
      long[] mechanisms,
      PaddedKeyWrap padded) {
    this.calls = calls;
    this.padded = padded;
    this.domainKeys = domainKeys;
    this.backingKeys = backingKeys;
    this.generation = generation;
    this.pairs = new KeyPairs(calls, backingKeys);
    this.probe = new KeyPairProbe(mechanisms, pairs);
  }

  /** The key pair types of this token, or null before the first probe. */
  public Set<KeyPairType> probed() {
    return probe.probed();
  }

  /** The key pair types of this token, probed once ({@link KeyPairProbe}). */
  public Set<KeyPairType> supported(Session session) throws PKCS11Exception {
    return probe.supported(session);
  }

  public WrappedKeyPair generateKeyPair(
      Session session, Step step, KeyPairType type, PrivateKeyUsage usage) throws PKCS11Exception {
    probe.requireSupported(session, type);
    step.enter(AdapterStep.FIND_ASYMMETRIC_DOMAIN_KEY);
    int current = generation.current(session);
    long domainKey = domainKeys.asymHandle(session, current);
    step.enter(Pkcs11Function.C_GENERATE_KEY_PAIR);
    PKCS11KeyPair pair =
        pairs.generate(session, type, PrivateKeyTemplates.privateKey(type, usage, true));
    try {
      step.enter(Pkcs11Function.C_GET_ATTRIBUTE_VALUE);
      byte[] spki = pairs.subjectPublicKeyInfo(session, type, pair.getPublicKey());
      calls.before(step.enter(Pkcs11Function.C_WRAP_KEY));
      byte[] ekt = session.wrapKey(new Mechanism(KWP), domainKey, pair.getPrivateKey());
      return new WrappedKeyPair(new WrappedKey(current, padded.writes(), ekt), spki);
    } finally {
      pairs.destroy(session, pair);
    }
  }

  public WrappedKey generateHmacKey(Session session, Step step, HmacType type)
      throws PKCS11Exception {
    step.enter(AdapterStep.FIND_HMAC_DOMAIN_KEY);
    int current = generation.current(session);
    long domainKey = domainKeys.handle(session, DomainKeyRole.HMAC, current);
    calls.before(step.enter(Pkcs11Function.C_GENERATE_KEY));
    long key =
        session.generateKey(
            new Mechanism(PKCS11Constants.CKM_GENERIC_SECRET_KEY_GEN),
            PrivateKeyTemplates.newHmacKey(type));
    try {
      calls.before(step.enter(Pkcs11Function.C_WRAP_KEY));
      byte[] ekt = session.wrapKey(new Mechanism(KWP), domainKey, key);
      return new WrappedKey(current, padded.writes(), ekt, DomainKeyRole.HMAC);
    } finally {
      backingKeys.destroyQuietly(session, key);
    }
  }

  public WrappedKey importHmacKey(Session session, Step step, byte[] value) throws PKCS11Exception {
    step.enter(AdapterStep.FIND_HMAC_DOMAIN_KEY);
    int current = generation.current(session);
    long domainKey = domainKeys.handle(session, DomainKeyRole.HMAC, current);
    calls.before(step.enter(Pkcs11Function.C_CREATE_OBJECT));
    long key = session.createObject(PrivateKeyTemplates.importedHmacKey(value));
    try {
      calls.before(step.enter(Pkcs11Function.C_WRAP_KEY));
      byte[] ekt = session.wrapKey(new Mechanism(KWP), domainKey, key);
      return new WrappedKey(current, padded.writes(), ekt, DomainKeyRole.HMAC);
    } finally {
      backingKeys.destroyQuietly(session, key);
    }
  }

  public byte[] signDigest(
      Session session,
      Step step,
      WrappedKey privateKey,
      KeyPairType type,
      SignatureScheme scheme,
      DigestAlgorithm digest,
      byte[] digestValue)
      throws PKCS11Exception {
    long key =
        unwrap(
            session,
            step,
            privateKey,
            PrivateKeyTemplates.privateKey(type, PrivateKeyUsage.SIGN, false));
    try {
      calls.before(step.enter(Pkcs11Function.C_SIGN));
      return switch (scheme) {
        case RSA_PKCS1_V1_5 ->
            session.signSingle(
                new Mechanism(PKCS11Constants.CKM_RSA_PKCS),
                key,
                Der.digestInfo(digest, digestValue));
        case RSA_PSS ->
            session.signSingle(
                new Mechanism(
                    PKCS11Constants.CKM_RSA_PKCS_PSS,
                    new RSA_PKCS_PSS_PARAMS(hashMechanism(digest), mgf1(digest), digest.length())),
                key,
                digestValue);
        case ECDSA ->
            Der.ecdsaSignature(
                session.signSingle(new Mechanism(PKCS11Constants.CKM_ECDSA), key, digestValue));
      };
    } finally {
      backingKeys.destroyQuietly(session, key);
    }
  }

  /**
   * RSAES-OAEP with CKM_RSA_PKCS_OAEP; where the token refuses the hash in the mechanism's
   * parameters, raw RSA (CKM_RSA_X_509) in the token and the OAEP decoding here ({@link
   * OaepDecoding}). The private key stays in the token either way.
   */
  public byte[] decryptOaep(
      Session session,
      Step step,
      WrappedKey privateKey,
      KeyPairType type,
      DigestAlgorithm hash,
      byte[] ciphertext)
      throws PKCS11Exception {
    long key =
        unwrap(
            session,
            step,
            privateKey,
            PrivateKeyTemplates.privateKey(type, PrivateKeyUsage.DECRYPT, false));
    try {
      if (!nativeOaepRefused.contains(hash)) {
        calls.before(step.enter(Pkcs11Function.C_DECRYPT_INIT));
        boolean started = false;
        try {
          session.decryptInit(
              new Mechanism(
                  PKCS11Constants.CKM_RSA_PKCS_OAEP,
                  new RSA_PKCS_OAEP_PARAMS(hashMechanism(hash), mgf1(hash))),
              key);
          started = true;
        } catch (PKCS11Exception e) {
          long code = e.getErrorCode();
          if (code != PKCS11Constants.CKR_ARGUMENTS_BAD
              && code != PKCS11Constants.CKR_MECHANISM_PARAM_INVALID) {
            throw e;
          }
          nativeOaepRefused.add(hash);
        }
        if (started) {
          calls.before(step.enter(Pkcs11Function.C_DECRYPT));
          return session.decrypt(ciphertext);
        }
      }
      calls.before(step.enter(Pkcs11Function.C_DECRYPT));
      byte[] encoded =
          session.decryptSingle(new Mechanism(PKCS11Constants.CKM_RSA_X_509), key, ciphertext);
      return OaepDecoding.decode(encoded, type.bits() / 8, hash);
    } finally {
      backingKeys.destroyQuietly(session, key);
    }
  }

  public byte[] generateMac(
      Session session, Step step, WrappedKey hmacKey, HmacType type, byte[] message)
      throws PKCS11Exception {
    long key = unwrap(session, step, hmacKey, PrivateKeyTemplates.hmacKey(false));
    try {
      calls.before(step.enter(Pkcs11Function.C_SIGN));
      Mechanism mechanism = new Mechanism(hmacMechanism(type));
      if (message.length > 0) {
        return session.signSingle(mechanism, key, message);
      }
      // The wrapper passes an empty array as NULL, which C_Sign rejects: init and final instead.
      session.signInit(mechanism, key);
      return session.signFinal();
    } finally {
      backingKeys.destroyQuietly(session, key);
    }
  }

  public DataKeyPair generateDataKeyPair(Session session, Step step, KeyPairType type)
      throws PKCS11Exception {
    probe.requireSupported(session, type);
    step.enter(Pkcs11Function.C_GENERATE_KEY_PAIR);
    PKCS11KeyPair pair = pairs.generate(session, type, PrivateKeyTemplates.dataPrivateKey(type));
    try {
      step.enter(Pkcs11Function.C_GET_ATTRIBUTE_VALUE);
      byte[] spki = pairs.subjectPublicKeyInfo(session, type, pair.getPublicKey());
      byte[] pkcs8 = pairs.privateKeyInfo(session, type, pair);
      return new DataKeyPair(pkcs8, spki);
    } finally {
      pairs.destroy(session, pair);
    }
  }

  /**
   * Unwraps {@code ekt} (a private or an HMAC key, told apart by {@code template}) under its domain
   * key and wraps it under {@code toRole}'s of {@code toGeneration}, inside the token; the
   * unwrapped session object is EXTRACTABLE for this, wrappable only by a trusted key, and
   * destroyed in {@code finally}.
   */
  public WrappedKey rewrap(
      Session session,
      Step step,
      WrappedKey ekt,
      AttributeVector template,
      int toGeneration,
      DomainKeyRole toRole)
      throws PKCS11Exception {
    step.enter(AdapterStep.FIND_DOMAIN_KEY);
    long to = domainKeys.handle(session, toRole, toGeneration);
    long key = unwrap(session, step, ekt, template);
    try {
      calls.before(step.enter(Pkcs11Function.C_WRAP_KEY));
      byte[] wrapped = session.wrapKey(new Mechanism(KWP), to, key);
      return new WrappedKey(toGeneration, padded.writes(), wrapped, toRole);
    } finally {
      backingKeys.destroyQuietly(session, key);
    }
  }

  private long unwrap(Session session, Step step, WrappedKey ekt, AttributeVector template)
      throws PKCS11Exception {
    if (ekt.wrapMechanism() == WrapMechanism.AES_KEY_WRAP) {
      throw new HsmException("unsupported wrap mechanism " + ekt.wrapMechanism());
    }
    long mechanism = padded.unwrapMechanism(ekt.wrapMechanism());
    step.enter(AdapterStep.FIND_DOMAIN_KEY);
    long domainKey = domainKeys.handle(session, ekt.role(), ekt.domainKeyGeneration());
    calls.before(step.enter(Pkcs11Function.C_UNWRAP_KEY));
    return session.unwrapKey(new Mechanism(mechanism), domainKey, ekt.ekt(), template);
  }

  static long hashMechanism(DigestAlgorithm digest) {
    return switch (digest) {
      case SHA_1 -> PKCS11Constants.CKM_SHA_1;
      case SHA_256 -> PKCS11Constants.CKM_SHA256;
      case SHA_384 -> PKCS11Constants.CKM_SHA384;
      case SHA_512 -> PKCS11Constants.CKM_SHA512;
    };
  }

  static long mgf1(DigestAlgorithm digest) {
    return switch (digest) {
      case SHA_1 -> PKCS11Constants.CKG_MGF1_SHA1;
      case SHA_256 -> PKCS11Constants.CKG_MGF1_SHA256;
      case SHA_384 -> PKCS11Constants.CKG_MGF1_SHA384;
      case SHA_512 -> PKCS11Constants.CKG_MGF1_SHA512;
    };
  }

  static long hmacMechanism(HmacType type) {
    return switch (type) {
      case HMAC_SHA224 -> PKCS11Constants.CKM_SHA224_HMAC;
      case HMAC_SHA256 -> PKCS11Constants.CKM_SHA256_HMAC;
      case HMAC_SHA384 -> PKCS11Constants.CKM_SHA384_HMAC;
      case HMAC_SHA512 -> PKCS11Constants.CKM_SHA512_HMAC;
    };
  }
}
