package io.p11kms.hsm.diagnostics;

import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.WrapMechanism;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/**
 * How this token wraps keys whose length need not be a multiple of 8 (private and HMAC keys), and
 * which formats of such EKTs it can unwrap, probed once with throwaway session keys.
 *
 * <p>Tokens disagree on what {@code CKM_AES_KEY_WRAP_PAD} writes: SoftHSM2 2.6 writes RFC 5649
 * (what PKCS#11 3.0 names {@code CKM_AES_KEY_WRAP_KWP}), NSS softoken 3.87 pads PKCS#7-style and
 * applies RFC 3394 (PKCS#11 3.0's {@code CKM_AES_KEY_WRAP_PKCS7}). So every EKT records the format
 * it was written in ({@link WrapMechanism}), found by comparing the token's output with the JDK's
 * on a known value, and is unwrapped with whichever mechanism reads that format on the token at
 * hand: {@code CKM_AES_KEY_WRAP_PAD} where that is what it writes, else {@code
 * CKM_AES_KEY_WRAP_KWP} or {@code CKM_AES_KEY_WRAP_PKCS7} where offered and proven on the JDK's
 * output. NSS softoken reads RFC 5649 with {@code CKM_AES_KEY_WRAP_KWP} (it cannot write it through
 * the wrapper: its length query is short, CKR_BUFFER_TOO_SMALL); SoftHSM2 2.6 reads no PKCS#7
 * format.
 *
 * @param writes the format {@code CKM_AES_KEY_WRAP_PAD} writes here, with which new EKTs are tagged
 *     ({@link WrapMechanism#AES_KEY_WRAP_PAD} also where it writes neither known format, as before)
 * @param unwraps for each format this token reads, the mechanism it reads it with
 */
public record PaddedKeyWrap(WrapMechanism writes, Map<WrapMechanism, Long> unwraps) {
  private static final long PAD = PKCS11Constants.CKM_AES_KEY_WRAP_PAD;

  /** Mechanisms that read one format only, tried where the token offers them. */
  private static final Map<WrapMechanism, Long> DEDICATED =
      Map.of(
          WrapMechanism.AES_KEY_WRAP_PAD, PKCS11Constants.CKM_AES_KEY_WRAP_KWP,
          WrapMechanism.AES_KEY_WRAP_PKCS7, PKCS11Constants.CKM_AES_KEY_WRAP_PKCS7);

  /** JDK transformations of the formats, for the probe's known answers. */
  private static final Map<WrapMechanism, String> JDK =
      Map.of(
          WrapMechanism.AES_KEY_WRAP_PAD, "AES/KWP/NoPadding",
          WrapMechanism.AES_KEY_WRAP_PKCS7, "AES/KW/PKCS5Padding");

  /** Probe values, not secret: a wrapping key and a 24-byte key value. */
  private static final byte[] PROBE_KEK = new byte[32];

  private static final byte[] PROBE_VALUE = new byte[24];

  static {
    Arrays.fill(PROBE_KEK, (byte) 0x5a);
    Arrays.fill(PROBE_VALUE, (byte) 0x3c);
  }

  public PaddedKeyWrap {
    unwraps = Collections.unmodifiableMap(new EnumMap<>(unwraps));
  }

  /**
   * The mechanism that unwraps an EKT of {@code format} on this token.
   *
   * @throws HsmException when this token reads no EKT of that format (made on a token of another
   *     kind)
   */
  public long unwrapMechanism(WrapMechanism format) {
    Long mechanism = unwraps.get(format);
    if (mechanism == null) {
      throw new HsmException(
          "this token cannot unwrap a key wrapped as "
              + format
              + " (made on a token whose CKM_AES_KEY_WRAP_PAD writes that format)");
    }
    return mechanism;
  }

  /** One line for the doctor: the format written, and each format read with its mechanism. */
  public String describe() {
    StringBuilder line =
        new StringBuilder("private and HMAC keys are wrapped as ")
            .append(formatName(writes))
            .append("; reads ");
    String separator = "";
    for (Map.Entry<WrapMechanism, Long> read : unwraps.entrySet()) {
      line.append(separator)
          .append(formatName(read.getKey()))
          .append(" with ")
          .append(PKCS11Constants.codeToName(PKCS11Constants.Category.CKM, read.getValue()));
      separator = ", ";
    }
    return unwraps.isEmpty()
        ? line.append("none (no CKM_AES_KEY_WRAP_PAD)").toString()
        : line.toString();
  }

  private static String formatName(WrapMechanism format) {
    return format == WrapMechanism.AES_KEY_WRAP_PKCS7 ? "PKCS#7 padding + RFC 3394" : "RFC 5649";
  }

  /** Whether this token unwraps RFC 5649 ({@link WrapMechanism#AES_KEY_WRAP_PAD}). */
  public boolean readsRfc5649() {
    return unwraps.containsKey(WrapMechanism.AES_KEY_WRAP_PAD);
  }

  /** Probes in {@code session}; a token without {@code CKM_AES_KEY_WRAP_PAD} reads nothing. */
  static PaddedKeyWrap probe(Session session, Set<Long> mechanisms) throws PKCS11Exception {
    Map<WrapMechanism, Long> unwraps = new EnumMap<>(WrapMechanism.class);
    if (!mechanisms.contains(PAD)) {
      return new PaddedKeyWrap(WrapMechanism.AES_KEY_WRAP_PAD, unwraps);
    }
    long kek =
        session.createObject(
            AttributeVector.newAESSecretKey()
                .token(false)
                .value(PROBE_KEK)
                .wrap(true)
                .unwrap(true)
                .encrypt(false)
                .decrypt(false));
    try {
      WrapMechanism writes = format(wrapProbeValue(session, kek));
      unwraps.put(writes, PAD);
      for (Map.Entry<WrapMechanism, Long> dedicated : DEDICATED.entrySet()) {
        if (!unwraps.containsKey(dedicated.getKey())
            && mechanisms.contains(dedicated.getValue())
            && unwrapsJdkOutput(session, kek, dedicated.getKey(), dedicated.getValue())) {
          unwraps.put(dedicated.getKey(), dedicated.getValue());
        }
      }
      return new PaddedKeyWrap(writes, unwraps);
    } finally {
      destroyQuietly(session, kek);
    }
  }

  private static byte[] wrapProbeValue(Session session, long kek) throws PKCS11Exception {
    long key = session.createObject(probeKey().value(PROBE_VALUE).extractable(true));
    try {
      return session.wrapKey(new Mechanism(PAD), kek, key);
    } catch (PKCS11Exception e) {
      return new byte[0];
    } finally {
      destroyQuietly(session, key);
    }
  }

  /** The format of {@code wrapped}, AES_KEY_WRAP_PAD where it is none the JDK knows. */
  private static WrapMechanism format(byte[] wrapped) {
    for (Map.Entry<WrapMechanism, String> format : JDK.entrySet()) {
      if (Arrays.equals(wrapped, jdkWrap(format.getValue()))) {
        return format.getKey();
      }
    }
    return WrapMechanism.AES_KEY_WRAP_PAD;
  }

  private static boolean unwrapsJdkOutput(
      Session session, long kek, WrapMechanism format, long mechanism) {
    try {
      long key =
          session.unwrapKey(
              new Mechanism(mechanism),
              kek,
              jdkWrap(JDK.get(format)),
              probeKey().extractable(true));
      try {
        byte[] value = session.getAttrValues(key, PKCS11Constants.CKA_VALUE).value();
        return Arrays.equals(value, PROBE_VALUE);
      } finally {
        destroyQuietly(session, key);
      }
    } catch (PKCS11Exception e) {
      return false;
    }
  }

  private static byte[] jdkWrap(String transformation) {
    try {
      Cipher cipher = Cipher.getInstance(transformation);
      cipher.init(Cipher.WRAP_MODE, new SecretKeySpec(PROBE_KEK, "AES"));
      return cipher.wrap(new SecretKeySpec(PROBE_VALUE, "HmacSHA256"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK cannot wrap with " + transformation, e);
    }
  }

  /** A readable generic secret session key with no usage: the probe's value is no secret. */
  private static AttributeVector probeKey() {
    return AttributeVector.newSecretKey()
        .keyType(PKCS11Constants.CKK_GENERIC_SECRET)
        .token(false)
        .sensitive(false)
        .sign(false)
        .verify(false)
        .encrypt(false)
        .decrypt(false)
        .derive(false);
  }

  private static void destroyQuietly(Session session, long handle) {
    try {
      session.destroyObject(handle);
    } catch (PKCS11Exception e) {
      // A session object goes with its session, which the probe closes next.
    }
  }
}
