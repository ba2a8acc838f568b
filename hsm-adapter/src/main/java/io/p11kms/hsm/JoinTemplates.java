package io.p11kms.hsm;

import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.attrs.Attribute;

/**
 * The templates of the domain join, each built from the template the SO ceremony generates that
 * kind of domain key with ({@link DomainKeyRole}), never from a bundle: the copy a target lands,
 * and the proof keys that show a copy is the source's key.
 */
final class JoinTemplates {
  private JoinTemplates() {}

  /**
   * The ceremony's template of {@code key} with CKA_TOKEN set to {@code tokenObject}, MODIFIABLE
   * moved last (SoftHSM2 applies an unwrap template in order and refuses every attribute after
   * MODIFIABLE false with CKR_ATTRIBUTE_READ_ONLY): what the key has on any token of the domain,
   * and the C_UnwrapKey template that lands it on the target.
   *
   * <p>Without CKA_VALUE_LEN, which only generation takes: SoftHSM2 2.6.1 refuses it in an unwrap
   * template (CKR_ATTRIBUTE_READ_ONLY) and reports 0 for a key unwrapped without it, so a copy
   * could never compare equal on it.
   */
  static AttributeVector asObject(DomainKeyRole.Key key, boolean tokenObject) {
    AttributeVector template = key.template();
    AttributeVector out = new AttributeVector();
    for (Attribute attribute : template.snapshot()) {
      long type = attribute.type();
      if (type != PKCS11Constants.CKA_VALUE_LEN && type != PKCS11Constants.CKA_MODIFIABLE) {
        out.attr(type, type == PKCS11Constants.CKA_TOKEN ? tokenObject : attribute.getValue());
      }
    }
    if (template.modifiable() != null) {
      out.modifiable(template.modifiable());
    }
    return out;
  }

  /** How the source generates the proof key of {@code key}: by the key type it must have. */
  static Mechanism proofKeyGeneration(DomainKeyRole.Key key) {
    long keyType = proofKeyType(key);
    if (keyType == PKCS11Constants.CKK_AES) {
      return new Mechanism(PKCS11Constants.CKM_AES_KEY_GEN);
    }
    if (keyType == PKCS11Constants.CKK_GENERIC_SECRET) {
      return new Mechanism(PKCS11Constants.CKM_GENERIC_SECRET_KEY_GEN);
    }
    throw new HsmException(
        key.label()
            + " unwraps only "
            + PKCS11Constants.ckkCodeToName(keyType)
            + " keys; the domain join proves a copy with an AES or generic secret key");
  }

  /**
   * The proof key made on the source: a 32-byte session key that the domain key may wrap
   * (EXTRACTABLE) and that meets everything the domain key's UNWRAP_TEMPLATE demands, so that the
   * copy on the target can unwrap it.
   */
  static AttributeVector proofKeyOnSource(DomainKeyRole.Key key) {
    return proofKey(key, true);
  }

  /** The proof key unwrapped on the target under the copy: the same pins, not extractable. */
  static AttributeVector proofKeyOnTarget(DomainKeyRole.Key key) {
    return proofKey(key, false);
  }

  private static AttributeVector proofKey(DomainKeyRole.Key key, boolean onSource) {
    AttributeVector pins = unwrapPins(key);
    AttributeVector template = AttributeVector.newSecretKey(proofKeyType(key));
    if (onSource) {
      template.valueLen(KeyTemplates.AES_256_BYTES);
    }
    template.token(false).private_(false).sensitive(true).wrapWithTrusted(true);
    for (Attribute pin : pins.snapshot()) {
      long type = pin.type();
      if (type != PKCS11Constants.CKA_MODIFIABLE
          && type != PKCS11Constants.CKA_EXTRACTABLE
          && type != PKCS11Constants.CKA_CLASS
          && type != PKCS11Constants.CKA_KEY_TYPE) {
        template.attr(type, pin.getValue());
      }
    }
    Boolean extractable = pins.extractable();
    template.extractable(onSource || Boolean.TRUE.equals(extractable));
    if (pins.modifiable() != null) {
      template.modifiable(pins.modifiable());
    }
    return template;
  }

  private static long proofKeyType(DomainKeyRole.Key key) {
    Long pinned = unwrapPins(key).keyType();
    return pinned != null ? pinned : PKCS11Constants.CKK_AES;
  }

  private static AttributeVector unwrapPins(DomainKeyRole.Key key) {
    AttributeVector pins = key.template().unwrapTemplate();
    return pins != null ? pins : new AttributeVector();
  }
}
