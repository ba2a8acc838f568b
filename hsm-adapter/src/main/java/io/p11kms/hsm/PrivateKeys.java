package io.p11kms.hsm;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.spec.RSAPrivateCrtKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
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
import org.xipki.pkcs11.wrapper.params.RSA_PKCS_PSS_PARAMS;

/**
 * Private and HMAC keys in the token, for {@link Pkcs11Hsm}: generated as session objects and
 * wrapped at once with CKM_AES_KEY_WRAP_PAD under the domain key of their role ({@code
 * domain-key-asym/<n>} for private keys, {@code domain-key-hmac/<n>} for HMAC keys; an HMAC key
 * made before the latter existed stays under the former until a rotation moves it); unwrapped as
 * session objects for one operation and destroyed in {@code finally}. Every method runs inside a
 * {@link TokenConnection#call}, so deadlines, recovery and the interceptor apply as to the rest.
 */
final class PrivateKeys {
  private static final long RSA_GEN = PKCS11Constants.CKM_RSA_PKCS_KEY_PAIR_GEN;
  private static final long EC_GEN = PKCS11Constants.CKM_EC_KEY_PAIR_GEN;
  private static final long KWP = PKCS11Constants.CKM_AES_KEY_WRAP_PAD;

  /** Where the token stands on new keys: the current domain key generation. */
  @FunctionalInterface
  interface Generation {
    int current(Session session) throws PKCS11Exception;
  }

  private final Calls calls;
  private final DomainKeys domainKeys;
  private final BackingKeys backingKeys;
  private final Generation generation;
  private final Set<Long> mechanisms;
  private final PaddedKeyWrap padded;
  private final Set<DigestAlgorithm> nativeOaepRefused =
      Collections.synchronizedSet(EnumSet.noneOf(DigestAlgorithm.class));
  private volatile Set<KeyPairType> supported;

  PrivateKeys(
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
    this.mechanisms = LongStream.of(mechanisms).boxed().collect(Collectors.toSet());
  }

  /** The key pair types of this token, or null before the first probe. */
  Set<KeyPairType> probed() {
    return supported;
  }

  /**
   * The key pair types of this token, probed once: RSA and the NIST curves from the mechanism list,
   * secp256k1 by generating (and destroying) one pair, since the list does not name curves. EC keys
   * only where an EC private key wrapped with CKM_AES_KEY_WRAP_PAD unwraps again (NSS softoken 3.87
   * wraps one and refuses to unwrap it, CKR_TEMPLATE_INCOMPLETE).
   */
  Set<KeyPairType> supported(Session session) throws PKCS11Exception {
    Set<KeyPairType> known = supported;
    if (known != null) {
      return known;
    }
    EnumSet<KeyPairType> types = EnumSet.noneOf(KeyPairType.class);
    if (mechanisms.contains(KWP)) {
      if (offers(RSA_GEN, PKCS11Constants.CKM_RSA_PKCS, PKCS11Constants.CKM_RSA_PKCS_PSS)
          && (mechanisms.contains(PKCS11Constants.CKM_RSA_PKCS_OAEP)
              || mechanisms.contains(PKCS11Constants.CKM_RSA_X_509))) {
        types.addAll(EnumSet.of(KeyPairType.RSA_2048, KeyPairType.RSA_3072, KeyPairType.RSA_4096));
      }
      if (offers(EC_GEN, PKCS11Constants.CKM_ECDSA) && unwrapsAgain(session, KeyPairType.EC_P256)) {
        types.addAll(EnumSet.of(KeyPairType.EC_P256, KeyPairType.EC_P384, KeyPairType.EC_P521));
        if (canGenerate(session, KeyPairType.EC_SECP256K1)) {
          types.add(KeyPairType.EC_SECP256K1);
        }
      }
    }
    supported = Collections.unmodifiableSet(types);
    return supported;
  }

  private boolean offers(long... wanted) {
    return LongStream.of(wanted).allMatch(mechanisms::contains);
  }

  /**
   * Whether a private key of {@code type} wrapped with CKM_AES_KEY_WRAP_PAD unwraps again, tried on
   * a readable pair and a throwaway wrapping key, all destroyed after.
   */
  private boolean unwrapsAgain(Session session, KeyPairType type) throws PKCS11Exception {
    PKCS11KeyPair pair = generatePair(session, type, PrivateKeyTemplates.dataPrivateKey(type));
    try {
      long wrapping =
          session.generateKey(
              new Mechanism(PKCS11Constants.CKM_AES_KEY_GEN),
              AttributeVector.newAESSecretKey()
                  .valueLen(KeyTemplates.AES_256_BYTES)
                  .token(false)
                  .sensitive(true)
                  .extractable(false)
                  .wrap(true)
                  .unwrap(true)
                  .encrypt(false)
                  .decrypt(false));
      try {
        byte[] wrapped = session.wrapKey(new Mechanism(KWP), wrapping, pair.getPrivateKey());
        long unwrapped =
            session.unwrapKey(
                new Mechanism(KWP),
                wrapping,
                wrapped,
                PrivateKeyTemplates.privateKey(type, PrivateKeyUsage.SIGN, false));
        session.destroyObject(unwrapped);
        return true;
      } catch (PKCS11Exception e) {
        if (Pkcs11Errors.recoveryFor(e.getErrorCode()) != Pkcs11Errors.Recovery.NONE) {
          throw e;
        }
        return false;
      } finally {
        session.destroyObject(wrapping);
      }
    } finally {
      destroyPair(session, pair);
    }
  }

  private boolean canGenerate(Session session, KeyPairType type) throws PKCS11Exception {
    PKCS11KeyPair pair;
    try {
      pair = generatePair(session, type, PrivateKeyTemplates.dataPrivateKey(type));
    } catch (PKCS11Exception e) {
      if (Pkcs11Errors.recoveryFor(e.getErrorCode()) != Pkcs11Errors.Recovery.NONE) {
        throw e;
      }
      return false;
    }
    destroyPair(session, pair);
    return true;
  }

  WrappedKeyPair generateKeyPair(
      Session session, Step step, KeyPairType type, PrivateKeyUsage usage) throws PKCS11Exception {
    requireSupported(session, type);
    step.enter(AdapterStep.FIND_ASYMMETRIC_DOMAIN_KEY);
    int current = generation.current(session);
    long domainKey = domainKeys.asymHandle(session, current);
    step.enter(Pkcs11Function.C_GENERATE_KEY_PAIR);
    PKCS11KeyPair pair =
        generatePair(session, type, PrivateKeyTemplates.privateKey(type, usage, true));
    try {
      step.enter(Pkcs11Function.C_GET_ATTRIBUTE_VALUE);
      byte[] spki = subjectPublicKeyInfo(session, type, pair.getPublicKey());
      calls.before(step.enter(Pkcs11Function.C_WRAP_KEY));
      byte[] ekt = session.wrapKey(new Mechanism(KWP), domainKey, pair.getPrivateKey());
      return new WrappedKeyPair(new WrappedKey(current, padded.writes(), ekt), spki);
    } finally {
      destroyPair(session, pair);
    }
  }

  WrappedKey generateHmacKey(Session session, Step step, HmacType type) throws PKCS11Exception {
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

  WrappedKey importHmacKey(Session session, Step step, byte[] value) throws PKCS11Exception {
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

  byte[] signDigest(
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
  byte[] decryptOaep(
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

  byte[] generateMac(Session session, Step step, WrappedKey hmacKey, HmacType type, byte[] message)
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

  DataKeyPair generateDataKeyPair(Session session, Step step, KeyPairType type)
      throws PKCS11Exception {
    requireSupported(session, type);
    step.enter(Pkcs11Function.C_GENERATE_KEY_PAIR);
    PKCS11KeyPair pair = generatePair(session, type, PrivateKeyTemplates.dataPrivateKey(type));
    try {
      step.enter(Pkcs11Function.C_GET_ATTRIBUTE_VALUE);
      byte[] spki = subjectPublicKeyInfo(session, type, pair.getPublicKey());
      calls.before(Pkcs11Function.C_GET_ATTRIBUTE_VALUE);
      byte[] pkcs8;
      if (type.isRsa()) {
        AttributeVector a =
            session.getAttrValues(
                pair.getPrivateKey(),
                PKCS11Constants.CKA_MODULUS,
                PKCS11Constants.CKA_PUBLIC_EXPONENT,
                PKCS11Constants.CKA_PRIVATE_EXPONENT,
                PKCS11Constants.CKA_PRIME_1,
                PKCS11Constants.CKA_PRIME_2,
                PKCS11Constants.CKA_EXPONENT_1,
                PKCS11Constants.CKA_EXPONENT_2,
                PKCS11Constants.CKA_COEFFICIENT);
        pkcs8 =
            rsaKeyFactory()
                .generatePrivate(
                    new RSAPrivateCrtKeySpec(
                        required(a.modulus()),
                        required(a.publicExponent()),
                        required(a.privateExponent()),
                        required(a.prime1()),
                        required(a.prime2()),
                        required(a.exponent1()),
                        required(a.exponent2()),
                        required(a.coefficient())))
                .getEncoded();
      } else {
        byte[] value =
            session.getAttrValues(pair.getPrivateKey(), PKCS11Constants.CKA_VALUE).value();
        if (value == null) {
          throw new HsmException("the token did not reveal the data key pair's private value");
        }
        pkcs8 = Der.ecPkcs8(type, value, ecPoint(session, type, pair.getPublicKey()));
        java.util.Arrays.fill(value, (byte) 0);
      }
      return new DataKeyPair(pkcs8, spki);
    } catch (GeneralSecurityException e) {
      throw new HsmException("cannot encode the data key pair: " + e.getClass().getSimpleName());
    } finally {
      destroyPair(session, pair);
    }
  }

  /**
   * Unwraps {@code ekt} (a private or an HMAC key, told apart by {@code template}) under its domain
   * key and wraps it under {@code toRole}'s of {@code toGeneration}, inside the token; the
   * unwrapped session object is EXTRACTABLE for this, wrappable only by a trusted key, and
   * destroyed in {@code finally}.
   */
  WrappedKey rewrap(
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

  private void requireSupported(Session session, KeyPairType type) throws PKCS11Exception {
    if (!supported(session).contains(type)) {
      throw new HsmException("this token cannot generate " + type + " key pairs");
    }
  }

  private PKCS11KeyPair generatePair(Session session, KeyPairType type, AttributeVector privateKey)
      throws PKCS11Exception {
    calls.before(Pkcs11Function.C_GENERATE_KEY_PAIR);
    return session.generateKeyPair(
        new Mechanism(type.isRsa() ? RSA_GEN : EC_GEN),
        new KeyPairTemplate(privateKey, PrivateKeyTemplates.publicKey(type)));
  }

  private void destroyPair(Session session, PKCS11KeyPair pair) {
    backingKeys.destroyQuietly(session, pair.getPrivateKey());
    backingKeys.destroyQuietly(session, pair.getPublicKey());
  }

  private byte[] subjectPublicKeyInfo(Session session, KeyPairType type, long publicKey)
      throws PKCS11Exception {
    if (!type.isRsa()) {
      return Der.ecSubjectPublicKeyInfo(type, ecPoint(session, type, publicKey));
    }
    calls.before(Pkcs11Function.C_GET_ATTRIBUTE_VALUE);
    AttributeVector a =
        session.getAttrValues(
            publicKey, PKCS11Constants.CKA_MODULUS, PKCS11Constants.CKA_PUBLIC_EXPONENT);
    try {
      return rsaKeyFactory()
          .generatePublic(new RSAPublicKeySpec(required(a.modulus()), required(a.publicExponent())))
          .getEncoded();
    } catch (GeneralSecurityException e) {
      throw new HsmException("cannot encode the RSA public key: " + e.getClass().getSimpleName());
    }
  }

  private byte[] ecPoint(Session session, KeyPairType type, long publicKey) throws PKCS11Exception {
    calls.before(Pkcs11Function.C_GET_ATTRIBUTE_VALUE);
    byte[] point = session.getAttrValues(publicKey, PKCS11Constants.CKA_EC_POINT).ecPoint();
    if (point == null) {
      throw new HsmException("the token returned no EC point");
    }
    return Der.ecPoint(point, type);
  }

  private static KeyFactory rsaKeyFactory() throws GeneralSecurityException {
    return KeyFactory.getInstance("RSA");
  }

  private static BigInteger required(BigInteger value) {
    if (value == null) {
      throw new HsmException("the token did not return an RSA key component");
    }
    return value;
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
