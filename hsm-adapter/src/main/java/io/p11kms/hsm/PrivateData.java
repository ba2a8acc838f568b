package io.p11kms.hsm;

import java.util.ArrayList;
import java.util.List;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/**
 * A small value kept in the token as a private data object (CKO_DATA, TOKEN, PRIVATE, found by its
 * label and application): readable and writable only after a user login, so whoever can change
 * files on the host but cannot log in to the token can neither read nor change it. A user-PIN
 * holder can do both.
 */
final class PrivateData {
  /** More objects with one label than this is not what {@link #replace} leaves: refused. */
  static final int MAX_OBJECTS = 8;

  /** The CKA_APPLICATION of every object made here. */
  static final String APPLICATION = "p11kms";

  private PrivateData() {}

  static AttributeVector byLabel(String label) {
    return new AttributeVector()
        .class_(PKCS11Constants.CKO_DATA)
        .token(true)
        .private_(true)
        .application(APPLICATION)
        .label(label);
  }

  /**
   * The values of every object with this label: one, or two after a {@link #replace} that stopped
   * between its make and its destroy (or none).
   */
  static List<byte[]> read(Session session, Calls calls, String label) throws PKCS11Exception {
    List<byte[]> values = new ArrayList<>();
    for (long object : find(session, calls, label)) {
      calls.before("C_GetAttributeValue");
      byte[] value = session.getAttrValues(object, PKCS11Constants.CKA_VALUE).value();
      values.add(value == null ? new byte[0] : value);
    }
    return values;
  }

  /**
   * Makes an object holding {@code value}, then destroys the ones that were there: tokens may keep
   * a data object's value read-only (SoftHSM2 does), and in this order a failure in between leaves
   * the new value beside the old rather than neither.
   */
  static void replace(Session session, Calls calls, String label, byte[] value)
      throws PKCS11Exception {
    long[] old = find(session, calls, label);
    calls.before("C_CreateObject");
    session.createObject(byLabel(label).modifiable(false).value(value));
    for (long object : old) {
      calls.before("C_DestroyObject");
      session.destroyObject(object);
    }
  }

  private static long[] find(Session session, Calls calls, String label) throws PKCS11Exception {
    calls.before("C_FindObjects");
    long[] found = session.findObjectsSingle(byLabel(label), MAX_OBJECTS + 1);
    if (found.length > MAX_OBJECTS) {
      throw new HsmException(
          "more than " + MAX_OBJECTS + " private data objects labelled " + label + " on the token");
    }
    return found;
  }
}
