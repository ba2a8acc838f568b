package io.p11kms.hsm.keys;

import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.KeyPairType;
import io.p11kms.hsm.PrivateKeyUsage;
import io.p11kms.hsm.session.Pkcs11Errors;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11KeyPair;
import org.xipki.pkcs11.wrapper.Session;

/**
 * Which key pair types a token can make and keep, probed once per adapter and cached: from its
 * mechanism list, and by trying where the list does not tell.
 */
final class KeyPairProbe {
  private static final long RSA_GEN = PKCS11Constants.CKM_RSA_PKCS_KEY_PAIR_GEN;
  private static final long EC_GEN = PKCS11Constants.CKM_EC_KEY_PAIR_GEN;
  private static final long KWP = PKCS11Constants.CKM_AES_KEY_WRAP_PAD;

  private final Set<Long> mechanisms;
  private final KeyPairs pairs;
  private volatile Set<KeyPairType> supported;

  KeyPairProbe(long[] mechanisms, KeyPairs pairs) {
    this.mechanisms = LongStream.of(mechanisms).boxed().collect(Collectors.toSet());
    this.pairs = pairs;
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
    PKCS11KeyPair pair = pairs.generate(session, type, PrivateKeyTemplates.dataPrivateKey(type));
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
      pairs.destroy(session, pair);
    }
  }

  private boolean canGenerate(Session session, KeyPairType type) throws PKCS11Exception {
    PKCS11KeyPair pair;
    try {
      pair = pairs.generate(session, type, PrivateKeyTemplates.dataPrivateKey(type));
    } catch (PKCS11Exception e) {
      if (Pkcs11Errors.recoveryFor(e.getErrorCode()) != Pkcs11Errors.Recovery.NONE) {
        throw e;
      }
      return false;
    }
    pairs.destroy(session, pair);
    return true;
  }

  void requireSupported(Session session, KeyPairType type) throws PKCS11Exception {
    if (!supported(session).contains(type)) {
      throw new HsmException("this token cannot generate " + type + " key pairs");
    }
  }
}
