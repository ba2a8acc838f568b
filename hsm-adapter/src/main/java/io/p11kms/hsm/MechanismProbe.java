package io.p11kms.hsm;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.xipki.pkcs11.wrapper.PKCS11Constants;

/**
 * Checks at start-up that the token offers every mechanism the adapter uses, and chooses the key
 * derivation for new encryptions.
 *
 * <p>Why at start: a token that lacks AES key wrap or AES-GCM should stop the server at once with a
 * message naming what is missing, not fail the first customer request.
 *
 * <p>Derivation: {@code CKM_SP800_108_COUNTER_KDF} with HMAC-SHA256 is preferred by the design, but
 * ipkcs11wrapper 1.0.9 has no parameter class for it ({@code CK_SP800_108_KDF_PARAMS} is not
 * marshalled by its native layer), so this probe never chooses it, even on a token that lists it.
 * {@code CKM_AES_ECB_ENCRYPT_DATA} is what runs. Enable SP800-108 here only together with a wrapper
 * that can pass its parameters.
 */
final class MechanismProbe {

  /** Whether this wrapper can pass CK_SP800_108_KDF_PARAMS. It cannot; see the class javadoc. */
  static final boolean WRAPPER_SUPPORTS_SP800_108 = false;

  private static final long[] REQUIRED = {
    PKCS11Constants.CKM_AES_KEY_GEN, PKCS11Constants.CKM_AES_KEY_WRAP, PKCS11Constants.CKM_AES_GCM
  };

  private MechanismProbe() {}

  /**
   * Returns the derivation to use for new encryptions.
   *
   * @param tokenMechanisms what {@code C_GetMechanismList} reported
   * @throws HsmException listing every required mechanism the token lacks
   */
  static Derivation choose(long[] tokenMechanisms) {
    Set<Long> offered = LongStream.of(tokenMechanisms).boxed().collect(Collectors.toSet());
    List<String> missing = new ArrayList<>();
    for (long mechanism : REQUIRED) {
      if (!offered.contains(mechanism)) {
        missing.add(PKCS11Constants.ckmCodeToName(mechanism));
      }
    }
    boolean sp800 =
        WRAPPER_SUPPORTS_SP800_108
            && offered.contains(PKCS11Constants.CKM_SP800_108_COUNTER_KDF)
            && offered.contains(PKCS11Constants.CKM_SHA256_HMAC);
    boolean ecbData = offered.contains(PKCS11Constants.CKM_AES_ECB_ENCRYPT_DATA);
    if (!sp800 && !ecbData) {
      missing.add(
          PKCS11Constants.ckmCodeToName(PKCS11Constants.CKM_AES_ECB_ENCRYPT_DATA)
              + " (or "
              + PKCS11Constants.ckmCodeToName(PKCS11Constants.CKM_SP800_108_COUNTER_KDF)
              + ")");
    }
    if (!missing.isEmpty()) {
      throw new HsmException("token lacks required mechanisms: " + String.join(", ", missing));
    }
    return sp800 ? Derivation.SP800_108_COUNTER_HMAC_SHA256 : Derivation.AES_ECB_ENCRYPT_DATA;
  }

  /** Whether this adapter can run {@code derivation} on a token that offers these mechanisms. */
  static boolean canRun(Derivation derivation, long[] tokenMechanisms) {
    if (derivation == Derivation.AES_ECB_ENCRYPT_DATA) {
      return LongStream.of(tokenMechanisms)
          .anyMatch(m -> m == PKCS11Constants.CKM_AES_ECB_ENCRYPT_DATA);
    }
    return false;
  }
}
