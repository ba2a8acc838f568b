package io.p11kms.hsm.keys;

import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.session.Calls;
import io.p11kms.hsm.session.Pkcs11Function;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.LongStream;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/**
 * A small value kept in the token as a private data object (CKO_DATA, TOKEN, PRIVATE, found by its
 * label and application): readable and writable only after a user login, so whoever can change
 * files on the host but cannot log in to the token can neither read nor change it. A user-PIN
 * holder can do both.
 *
 * <p>A token that keeps no data object as a token object (NSS softoken 3.87 refuses one with
 * CKR_ATTRIBUTE_VALUE_INVALID: its data objects are session objects only) gets the value in a
 * private key object instead ({@link #keyByLabel}): the same protection, since what protects the
 * value is the login, not the class. Reading looks for both kinds. {@link PrivateDataWrites}
 * replaces a value.
 */
public final class PrivateData {
  /** More objects with one label than a replace leaves: refused. */
  static final int MAX_OBJECTS = 8;

  /** The CKA_APPLICATION of every object made here. */
  static final String APPLICATION = "p11kms";

  /** The start of a carrier key's CKA_ID; the value follows. */
  private static final byte[] CARRIER_PREFIX =
      (APPLICATION + ":").getBytes(StandardCharsets.US_ASCII);

  /** The answers of a token that keeps no token data object. */
  private static final Set<Long> REFUSED =
      Set.of(
          PKCS11Constants.CKR_ATTRIBUTE_VALUE_INVALID,
          PKCS11Constants.CKR_TEMPLATE_INCONSISTENT,
          PKCS11Constants.CKR_ATTRIBUTE_TYPE_INVALID);

  private PrivateData() {}

  public static AttributeVector byLabel(String label) {
    return new AttributeVector()
        .class_(PKCS11Constants.CKO_DATA)
        .token(true)
        .private_(true)
        .application(APPLICATION)
        .label(label);
  }

  /**
   * The value's carrier on a token without token data objects: a private generic secret key with no
   * usage (which no key the adapter uses is: the audit signing key of the same label signs), the
   * value in its CKA_ID after a prefix. Not in its CKA_VALUE: NSS softoken answers
   * CKR_ATTRIBUTE_SENSITIVE for the value of every token secret key, SENSITIVE or not.
   */
  public static AttributeVector keyByLabel(String label) {
    return AttributeVector.newSecretKey(PKCS11Constants.CKK_GENERIC_SECRET)
        .token(true)
        .private_(true)
        .sign(false)
        .verify(false)
        .label(label);
  }

  private static AttributeVector newKey(String label, byte[] value) {
    byte[] id = Arrays.copyOf(CARRIER_PREFIX, CARRIER_PREFIX.length + value.length);
    System.arraycopy(value, 0, id, CARRIER_PREFIX.length, value.length);
    return keyByLabel(label)
        .id(id)
        .valueLen(KeyTemplates.AES_256_BYTES)
        .sensitive(true)
        .extractable(false)
        .encrypt(false)
        .decrypt(false)
        .wrap(false)
        .unwrap(false)
        .derive(false)
        .modifiable(false);
  }

  /** The value a carrier key holds, or null when its CKA_ID is not a carrier's. */
  private static byte[] carried(byte[] id) {
    if (id == null
        || id.length < CARRIER_PREFIX.length
        || !Arrays.equals(Arrays.copyOf(id, CARRIER_PREFIX.length), CARRIER_PREFIX)) {
      return null;
    }
    return Arrays.copyOfRange(id, CARRIER_PREFIX.length, id.length);
  }

  /**
   * The values of every object with this label: one, or two after a {@link
   * PrivateDataWrites#replace} that stopped between its make and its destroy (or none).
   */
  public static List<byte[]> read(Session session, Calls calls, String label)
      throws PKCS11Exception {
    List<byte[]> values = new ArrayList<>();
    for (long object : findData(session, calls, label)) {
      calls.before(Pkcs11Function.C_GET_ATTRIBUTE_VALUE);
      byte[] value = session.getAttrValues(object, PKCS11Constants.CKA_VALUE).value();
      values.add(value == null ? new byte[0] : value);
    }
    for (long object : findKeys(session, calls, label)) {
      calls.before(Pkcs11Function.C_GET_ATTRIBUTE_VALUE);
      byte[] value = carried(session.getAttrValues(object, PKCS11Constants.CKA_ID).id());
      if (value != null) {
        values.add(value);
      }
    }
    return values;
  }

  /** The object made to hold a value: its handle, and the template a search finds it with. */
  record Made(long handle, AttributeVector template) {}

  /**
   * Makes an object holding {@code value}: a data object, or a carrier key on a token that keeps no
   * token data object.
   */
  static Made make(Session session, Calls calls, String label, byte[] value)
      throws PKCS11Exception {
    calls.before(Pkcs11Function.C_CREATE_OBJECT);
    try {
      return new Made(
          session.createObject(byLabel(label).modifiable(false).value(value)), byLabel(label));
    } catch (PKCS11Exception e) {
      if (!REFUSED.contains(e.getErrorCode())) {
        throw e;
      }
      calls.before(Pkcs11Function.C_GENERATE_KEY);
      return new Made(
          session.generateKey(
              new Mechanism(PKCS11Constants.CKM_GENERIC_SECRET_KEY_GEN), newKey(label, value)),
          keyByLabel(label));
    }
  }

  /**
   * Destroys each of {@code objects} but {@code made}: NSS softoken answers a new token key with
   * the CKA_ID of one it holds with that key.
   */
  static void destroyAllBut(Session session, Calls calls, long[] objects, long made)
      throws PKCS11Exception {
    for (long object : objects) {
      if (object != made) {
        calls.before(Pkcs11Function.C_DESTROY_OBJECT);
        session.destroyObject(object);
      }
    }
  }

  /** Every object with this label, of both kinds. */
  static long[] find(Session session, Calls calls, String label) throws PKCS11Exception {
    long[] found =
        LongStream.concat(
                Arrays.stream(findData(session, calls, label)),
                Arrays.stream(findKeys(session, calls, label)))
            .toArray();
    if (found.length > MAX_OBJECTS) {
      throw new HsmException(
          "more than " + MAX_OBJECTS + " private data objects labelled " + label + " on the token");
    }
    return found;
  }

  private static long[] findData(Session session, Calls calls, String label)
      throws PKCS11Exception {
    calls.before(Pkcs11Function.C_FIND_OBJECTS);
    return session.findObjectsSingle(byLabel(label), MAX_OBJECTS + 1);
  }

  private static long[] findKeys(Session session, Calls calls, String label)
      throws PKCS11Exception {
    calls.before(Pkcs11Function.C_FIND_OBJECTS);
    return session.findObjectsSingle(keyByLabel(label), MAX_OBJECTS + 1);
  }
}
