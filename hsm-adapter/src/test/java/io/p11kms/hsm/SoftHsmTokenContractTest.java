package io.p11kms.hsm;

import io.p11kms.hsm.testing.SoftHsmTestToken;
import io.p11kms.hsm.testing.TestToken;

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
  TokenCapabilities expectedCapabilities() {
    return new TokenCapabilities(GcmEncryption.SINGLE_PART, true, true, true, true);
  }

  @Override
  java.util.Set<KeyPairType> expectedKeyPairTypes() {
    return java.util.EnumSet.allOf(KeyPairType.class);
  }
}
