package io.p11kms.hsm.domain;

import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.KeyPairType;
import io.p11kms.hsm.keys.KeyTemplates;
import io.p11kms.hsm.keys.PrivateKeyTemplates;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.KeyPairTemplate;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11KeyPair;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.attrs.Attribute;

/**
 * The proof that a domain key copied by the domain join is the source's key: on the source, a fresh
 * key of the kind the domain key wraps, wrapped under it (the proof EKT); on the target, the copy
 * must unwrap that EKT (RFC 3394/5649 check integrity, so only the same key material does).
 *
 * <p>The proof key meets everything the domain key's UNWRAP_TEMPLATE (and so its WRAP_TEMPLATE)
 * demands, taken from the template of the domain key's kind ({@link JoinTemplates}), never from a
 * bundle: a secret key of the pinned type (AES unless the template pins another), or, where the
 * template pins CKO_PRIVATE_KEY, an EC P-256 private key wrapped with CKM_AES_KEY_WRAP_PAD. Every
 * proof key is a public session object (an SO session can make no other), destroyed at once.
 */
final class ProofKey {
  private final AttributeVector pins;

  private ProofKey(AttributeVector pins) {
    this.pins = pins;
  }

  /** The proof key of a domain key made from {@code domainKeyTemplate}. */
  static ProofKey of(AttributeVector domainKeyTemplate) {
    AttributeVector pins = domainKeyTemplate.unwrapTemplate();
    return new ProofKey(pins != null ? pins : new AttributeVector());
  }

  private boolean isPrivateKey() {
    return Long.valueOf(PKCS11Constants.CKO_PRIVATE_KEY).equals(pins.class_());
  }

  /** How the proof key is wrapped under the domain key and unwrapped under its copy. */
  Mechanism wrapMechanism() {
    return new Mechanism(
        isPrivateKey() ? PKCS11Constants.CKM_AES_KEY_WRAP_PAD : PKCS11Constants.CKM_AES_KEY_WRAP);
  }

  /**
   * On the source: generates the proof key (EXTRACTABLE, so that the domain key can wrap it) and
   * returns its handle; the public half of a key pair is destroyed at once. The caller destroys the
   * key.
   */
  long generate(Session session) throws PKCS11Exception {
    if (isPrivateKey()) {
      PKCS11KeyPair pair =
          session.generateKeyPair(
              new Mechanism(PKCS11Constants.CKM_EC_KEY_PAIR_GEN),
              new KeyPairTemplate(
                  template(AttributeVector.newECPrivateKey(), true),
                  PrivateKeyTemplates.publicKey(KeyPairType.EC_P256)));
      session.destroyObject(pair.getPublicKey());
      return pair.getPrivateKey();
    }
    long keyType = secretKeyType();
    Mechanism generation;
    if (keyType == PKCS11Constants.CKK_AES) {
      generation = new Mechanism(PKCS11Constants.CKM_AES_KEY_GEN);
    } else if (keyType == PKCS11Constants.CKK_GENERIC_SECRET) {
      generation = new Mechanism(PKCS11Constants.CKM_GENERIC_SECRET_KEY_GEN);
    } else {
      throw new HsmException(
          "a domain key that unwraps only "
              + PKCS11Constants.ckkCodeToName(keyType)
              + " keys: the domain join proves a copy with an AES, generic secret or EC key");
    }
    AttributeVector secret = AttributeVector.newSecretKey(keyType);
    secret.valueLen(KeyTemplates.AES_256_BYTES);
    return session.generateKey(generation, template(secret, true));
  }

  /** On the target: the template the proof EKT is unwrapped with under the copy. */
  AttributeVector onTarget() {
    AttributeVector start =
        isPrivateKey()
            ? AttributeVector.newECPrivateKey()
            : AttributeVector.newSecretKey(secretKeyType());
    return template(start, false);
  }

  private long secretKeyType() {
    Long pinned = pins.keyType();
    return pinned != null ? pinned : PKCS11Constants.CKK_AES;
  }

  /**
   * {@code start} (class and type) as a public session object, SENSITIVE and wrappable only by a
   * trusted key unless the pins say otherwise, with every pin of the UNWRAP_TEMPLATE, EXTRACTABLE
   * on the source, and MODIFIABLE last (SoftHSM2 refuses every attribute after MODIFIABLE false).
   */
  private AttributeVector template(AttributeVector start, boolean onSource) {
    AttributeVector template = start.token(false).private_(false);
    template.sensitive(true).wrapWithTrusted(true);
    if (isPrivateKey()) {
      template.sign(true).decrypt(false).signRecover(false);
    }
    for (Attribute pin : pins.snapshot()) {
      long type = pin.type();
      if (type != PKCS11Constants.CKA_MODIFIABLE
          && type != PKCS11Constants.CKA_EXTRACTABLE
          && type != PKCS11Constants.CKA_CLASS
          && type != PKCS11Constants.CKA_KEY_TYPE) {
        template.attr(type, pin.getValue());
      }
    }
    template.extractable(onSource || Boolean.TRUE.equals(pins.extractable()));
    if (pins.modifiable() != null) {
      template.modifiable(pins.modifiable());
    }
    return template;
  }
}
