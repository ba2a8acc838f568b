package io.p11kms.hsm.domain;

import java.util.List;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.attrs.Attribute;

/**
 * The template of a domain key copy, built from the template the SO ceremony generates that kind of
 * domain key with ({@link DomainKeyRole}), never from a bundle; the proof keys are built from the
 * same ({@link ProofKey}).
 */
final class JoinTemplates {
  private JoinTemplates() {}

  /**
   * Every template the ceremony makes, or made, a domain key of {@code key}'s kind and generation
   * with, newest first: a join lands a key as it was made, as long as it was made by one of them.
   */
  static List<AttributeVector> madeWith(DomainKeyRole.Key key) {
    List<AttributeVector> templates = new java.util.ArrayList<>();
    templates.add(key.template());
    key.role().previousTemplate(key.generation()).ifPresent(templates::add);
    return templates;
  }

  /**
   * {@code template} (a ceremony's) with CKA_TOKEN set to {@code tokenObject}, MODIFIABLE moved
   * last (SoftHSM2 applies an unwrap template in order and refuses every attribute after MODIFIABLE
   * false with CKR_ATTRIBUTE_READ_ONLY): what the key has on any token of the domain, and the
   * C_UnwrapKey template that lands it on the target.
   *
   * <p>Without CKA_VALUE_LEN, which only generation takes: SoftHSM2 2.6.1 refuses it in an unwrap
   * template (CKR_ATTRIBUTE_READ_ONLY) and reports 0 for a key unwrapped without it, so a copy
   * could never compare equal on it.
   */
  static AttributeVector asObject(AttributeVector template, boolean tokenObject) {
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
}
