package io.p11kms.hsm.keys;

import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.KeyPairType;
import io.p11kms.hsm.session.Calls;
import io.p11kms.hsm.session.Pkcs11Function;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.spec.RSAPrivateCrtKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.Arrays;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.KeyPairTemplate;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11KeyPair;
import org.xipki.pkcs11.wrapper.Session;

/**
 * Key pairs generated in the token as session objects: generating one (through the interceptor),
 * destroying both halves, and encoding the public half as a SubjectPublicKeyInfo.
 */
final class KeyPairs {
  private static final long RSA_GEN = PKCS11Constants.CKM_RSA_PKCS_KEY_PAIR_GEN;
  private static final long EC_GEN = PKCS11Constants.CKM_EC_KEY_PAIR_GEN;

  private final Calls calls;
  private final BackingKeys backingKeys;

  KeyPairs(Calls calls, BackingKeys backingKeys) {
    this.calls = calls;
    this.backingKeys = backingKeys;
  }

  PKCS11KeyPair generate(Session session, KeyPairType type, AttributeVector privateKey)
      throws PKCS11Exception {
    calls.before(Pkcs11Function.C_GENERATE_KEY_PAIR);
    return session.generateKeyPair(
        new Mechanism(type.isRsa() ? RSA_GEN : EC_GEN),
        new KeyPairTemplate(privateKey, PrivateKeyTemplates.publicKey(type)));
  }

  void destroy(Session session, PKCS11KeyPair pair) {
    backingKeys.destroyQuietly(session, pair.getPrivateKey());
    backingKeys.destroyQuietly(session, pair.getPublicKey());
  }

  byte[] subjectPublicKeyInfo(Session session, KeyPairType type, long publicKey)
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

  /**
   * The private half of a readable pair (a customer data key pair) as PKCS#8 PrivateKeyInfo, read
   * out of the token; the EC private value read is wiped after encoding.
   */
  byte[] privateKeyInfo(Session session, KeyPairType type, PKCS11KeyPair pair)
      throws PKCS11Exception {
    try {
      return encodePrivate(session, type, pair);
    } catch (GeneralSecurityException e) {
      throw new HsmException("cannot encode the data key pair: " + e.getClass().getSimpleName());
    }
  }

  private byte[] encodePrivate(Session session, KeyPairType type, PKCS11KeyPair pair)
      throws PKCS11Exception, GeneralSecurityException {
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
      byte[] value = session.getAttrValues(pair.getPrivateKey(), PKCS11Constants.CKA_VALUE).value();
      if (value == null) {
        throw new HsmException("the token did not reveal the data key pair's private value");
      }
      pkcs8 = Der.ecPkcs8(type, value, ecPoint(session, type, pair.getPublicKey()));
      Arrays.fill(value, (byte) 0);
    }
    return pkcs8;
  }
}
