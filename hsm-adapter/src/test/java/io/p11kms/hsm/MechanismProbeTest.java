package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.diagnostics.MechanismProbe;
import org.junit.jupiter.api.Test;
import org.xipki.pkcs11.wrapper.PKCS11Constants;

class MechanismProbeTest {
  private static final long KEY_GEN = PKCS11Constants.CKM_AES_KEY_GEN;
  private static final long KEY_WRAP = PKCS11Constants.CKM_AES_KEY_WRAP;
  private static final long GCM = PKCS11Constants.CKM_AES_GCM;
  private static final long ECB_DATA = PKCS11Constants.CKM_AES_ECB_ENCRYPT_DATA;
  private static final long SP800 = PKCS11Constants.CKM_SP800_108_COUNTER_KDF;
  private static final long HMAC = PKCS11Constants.CKM_SHA256_HMAC;

  @Test
  void choose_softHsmLikeToken_picksAesGcmUnderTheBackingKey() {
    // A derivation lets the caller choose the derived key's template: never chosen for new keys.
    assertThat(MechanismProbe.choose(new long[] {KEY_GEN, KEY_WRAP, GCM, ECB_DATA, HMAC}))
        .isEqualTo(Derivation.NONE_AES_GCM);
  }

  @Test
  void choose_tokenWithSp800_108_stillPicksAesGcmUnderTheBackingKey() {
    // The wrapper cannot pass CK_SP800_108_KDF_PARAMS, so SP800-108 is never chosen.
    assertThat(MechanismProbe.choose(new long[] {KEY_GEN, KEY_WRAP, GCM, ECB_DATA, SP800, HMAC}))
        .isEqualTo(Derivation.NONE_AES_GCM);
  }

  @Test
  void choose_missingMechanisms_failsListingEach() {
    assertThatThrownBy(() -> MechanismProbe.choose(new long[] {KEY_GEN, SP800, HMAC}))
        .isInstanceOf(HsmException.class)
        .hasMessageContaining("CKM_AES_KEY_WRAP")
        .hasMessageContaining("CKM_AES_GCM")
        .hasMessageNotContaining("CKM_AES_KEY_GEN,");
  }

  @Test
  void canRun_onlyWhatTheTokenAndWrapperSupport() {
    long[] mechanisms = {KEY_GEN, KEY_WRAP, GCM, ECB_DATA, SP800, HMAC};
    assertThat(MechanismProbe.canRun(Derivation.AES_ECB_ENCRYPT_DATA, mechanisms)).isTrue();
    assertThat(MechanismProbe.canRun(Derivation.SP800_108_COUNTER_HMAC_SHA256, mechanisms))
        .isFalse();
    assertThat(MechanismProbe.canRun(Derivation.AES_ECB_ENCRYPT_DATA, new long[] {GCM})).isFalse();
    assertThat(MechanismProbe.canRun(Derivation.NONE_AES_GCM, new long[] {GCM})).isTrue();
    assertThat(MechanismProbe.canRun(Derivation.NONE_AES_GCM, new long[] {ECB_DATA})).isFalse();
  }
}
