package io.p11kms.hsm;

import io.p11kms.hsm.diagnostics.GcmEncryption;
import io.p11kms.hsm.diagnostics.PaddedKeyWrap;
import io.p11kms.hsm.diagnostics.TokenCapabilities;
import io.p11kms.hsm.domain.DomainKeyCeremony;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import io.p11kms.hsm.testing.TestToken;
import org.xipki.pkcs11.wrapper.PKCS11Constants;

/** The token contract on SoftHSM2: it enforces custody and runs single-part AES-GCM. */
class SoftHsmTokenContractTest extends TokenContract {
  @Override
  TestToken newToken() {
    return SoftHsmTestToken.create();
  }

  @Override
  void addDomainKeyGeneration(TestToken token, int generation) {
    SoftHsmTestToken softHsm = (SoftHsmTestToken) token;
    char[] soPin = softHsm.soPin();
    try {
      DomainKeyCeremony.createDomainKey(softHsm.modulePath(), softHsm.label(), soPin, generation);
    } finally {
      java.util.Arrays.fill(soPin, '\0');
    }
  }

  @Override
  boolean expectedPublicCachedKeys() {
    return true;
  }

  @Override
  TokenCapabilities expectedCapabilities() {
    return new TokenCapabilities(
        GcmEncryption.SINGLE_PART,
        true,
        true,
        true,
        true,
        new PaddedKeyWrap(
            WrapMechanism.AES_KEY_WRAP_PAD,
            java.util.Map.of(
                WrapMechanism.AES_KEY_WRAP_PAD, PKCS11Constants.CKM_AES_KEY_WRAP_PAD)));
  }

  @Override
  java.util.Set<KeyPairType> expectedKeyPairTypes() {
    return java.util.EnumSet.allOf(KeyPairType.class);
  }
}
