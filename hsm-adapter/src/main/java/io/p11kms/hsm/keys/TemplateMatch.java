package io.p11kms.hsm.keys;

import io.p11kms.hsm.session.Calls;
import io.p11kms.hsm.session.Pkcs11Function;
import java.util.Objects;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.attrs.Attribute;

/**
 * Whether a handle remembered from an earlier search (or make) still names an object a search with
 * a template would find: one C_GetAttributeValue of the template's attribute types instead of a
 * search, which SoftHSM2 answers by visiting every object it holds.
 */
public final class TemplateMatch {
  private TemplateMatch() {}

  /**
   * Whether the object {@code handle} has every attribute of {@code template} with its value; false
   * also when the token refuses the read (CKR_OBJECT_HANDLE_INVALID above all: the object is gone).
   */
  public static boolean stillMatches(
      Session session, Calls calls, long handle, AttributeVector template) {
    try {
      long[] types = template.snapshot().stream().mapToLong(Attribute::getType).toArray();
      calls.before(Pkcs11Function.C_GET_ATTRIBUTE_VALUE);
      AttributeVector actual = session.getAttrValues(handle, types);
      for (Attribute wanted : template.snapshot()) {
        Attribute have = actual.getAttribute(wanted.getType());
        if (have == null || !Objects.deepEquals(have.getValue(), wanted.getValue())) {
          return false;
        }
      }
      return true;
    } catch (PKCS11Exception e) {
      return false;
    }
  }
}
