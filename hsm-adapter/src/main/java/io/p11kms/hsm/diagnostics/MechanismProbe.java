package io.p11kms.hsm.diagnostics;

import io.p11kms.hsm.Derivation;
import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.keys.BackingKeyUse;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.xipki.pkcs11.wrapper.PKCS11Constants;

/**
 * Checks at start-up that the token offers every mechanism the adapter uses, and chooses how new
 * encryptions get their key.
 *
 * <p>Why at start: a token that lacks AES key wrap or AES-GCM should stop the server at once with a
 * message naming what is missing, not fail the first customer request.
 *
 * <p>New encryptions run AES-GCM under the backing key itself ({@link Derivation#NONE_AES_GCM}),
 * which the domain key's UNWRAP_TEMPLATE lets do nothing else. A derivation per request would be
 * better (no limit on the number of random IVs under one key), but only on a token that enforces a
 * CKA_DERIVE_TEMPLATE on the backing key: C_DeriveKey takes the derived key's template from the
 * caller, so without one anyone with the user PIN derives a readable per-request key. SoftHSM2
 * 2.6.1 refuses CKA_DERIVE_TEMPLATE (CKR_ATTRIBUTE_TYPE_INVALID). {@code CKM_SP800_108_COUNTER_KDF}
 * also needs a wrapper that can pass its parameters, which ipkcs11wrapper 1.0.9 cannot; {@link
 * #WRAPPER_SUPPORTS_SP800_108} stays false until both hold. {@code CKM_AES_ECB_ENCRYPT_DATA} runs
 * only for backing keys of domain key generations made before ({@link BackingKeyUse#DERIVE}).
 */
public final class MechanismProbe {

  /** Whether this wrapper can pass CK_SP800_108_KDF_PARAMS. It cannot; see the class javadoc. */
  static final boolean WRAPPER_SUPPORTS_SP800_108 = false;

  private static final long[] REQUIRED = {
    PKCS11Constants.CKM_AES_KEY_GEN, PKCS11Constants.CKM_AES_KEY_WRAP, PKCS11Constants.CKM_AES_GCM
  };

  private MechanismProbe() {}

  /**
   * Returns the derivation to use for new encryptions under backing keys of the current ceremony.
   *
   * @param tokenMechanisms what {@code C_GetMechanismList} reported
   * @throws HsmException listing every required mechanism the token lacks
   */
  public static Derivation choose(long[] tokenMechanisms) {
    Set<Long> offered = LongStream.of(tokenMechanisms).boxed().collect(Collectors.toSet());
    List<String> missing = new ArrayList<>();
    for (long mechanism : REQUIRED) {
      if (!offered.contains(mechanism)) {
        missing.add(PKCS11Constants.ckmCodeToName(mechanism));
      }
    }
    if (!missing.isEmpty()) {
      throw new HsmException("token lacks required mechanisms: " + String.join(", ", missing));
    }
    return Derivation.NONE_AES_GCM;
  }

  /** Whether this adapter can run {@code derivation} on a token that offers these mechanisms. */
  public static boolean canRun(Derivation derivation, long[] tokenMechanisms) {
    long needed =
        switch (derivation) {
          case NONE_AES_GCM -> PKCS11Constants.CKM_AES_GCM;
          case AES_ECB_ENCRYPT_DATA -> PKCS11Constants.CKM_AES_ECB_ENCRYPT_DATA;
          case SP800_108_COUNTER_HMAC_SHA256 -> -1;
        };
    return LongStream.of(tokenMechanisms).anyMatch(m -> m == needed);
  }
}
