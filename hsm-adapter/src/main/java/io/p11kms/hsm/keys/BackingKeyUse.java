package io.p11kms.hsm.keys;

import io.p11kms.hsm.Derivation;

/**
 * What an unwrapped HSM backing key (HBK) may do, which the UNWRAP_TEMPLATE of its generation's
 * {@code domain-key/<n>} pins (the token enforces it whatever template a caller passes).
 */
public enum BackingKeyUse {
  /**
   * AES-GCM under the HBK itself, nothing else: ENCRYPT and DECRYPT, CKA_ALLOWED_MECHANISMS
   * {CKM_AES_GCM}, DERIVE false. What the ceremony makes now ({@link Derivation#NONE_AES_GCM}).
   */
  AES_GCM,
  /**
   * DERIVE only ({@link Derivation#AES_ECB_ENCRYPT_DATA}): what the ceremony made before. A
   * derivation lets the caller choose the derived key's template, so the user PIN can read a
   * per-request key out; kept only so that the HBKs and ciphertexts of those generations still
   * work.
   */
  DERIVE
}
