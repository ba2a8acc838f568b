package io.p11kms.hsm;

import io.p11kms.hsm.diagnostics.GcmEncryption;
import io.p11kms.hsm.diagnostics.PaddedKeyWrap;
import io.p11kms.hsm.diagnostics.TokenCapabilities;
import io.p11kms.hsm.domain.DomainKeyCeremony;
import io.p11kms.hsm.testing.NssTestToken;
import io.p11kms.hsm.testing.TestToken;
import org.xipki.pkcs11.wrapper.PKCS11Constants;

/**
 * The token contract on NSS softoken: its single-part AES-GCM encrypt misreports the output length
 * (the message API works), and it enforces no custody: a user sets TRUSTED, WRAP_WITH_TRUSTED is
 * ignored, UNWRAP_TEMPLATE is dropped; it does not mark the keys it generates LOCAL, unwraps no EC
 * private key and keeps no token data object (private data goes into a readable secret key).
 */
class NssTokenContractTest extends TokenContract {
  @Override
  TestToken newToken() {
    return NssTestToken.create();
  }

  @Override
  void addDomainKeyGeneration(TestToken token, int generation) {
    DomainKeyCeremony.createDomainKeyAsUser(token.hsmConfig(), generation);
  }

  @Override
  boolean expectedPublicCachedKeys() {
    return false;
  }

  @Override
  TokenCapabilities expectedCapabilities() {
    return new TokenCapabilities(
        GcmEncryption.MESSAGE,
        false,
        false,
        false,
        false,
        new PaddedKeyWrap(
            WrapMechanism.AES_KEY_WRAP_PKCS7,
            java.util.Map.of(
                WrapMechanism.AES_KEY_WRAP_PKCS7,
                PKCS11Constants.CKM_AES_KEY_WRAP_PAD,
                WrapMechanism.AES_KEY_WRAP_PAD,
                PKCS11Constants.CKM_AES_KEY_WRAP_KWP)));
  }

  @Override
  java.util.Set<KeyPairType> expectedKeyPairTypes() {
    return java.util.EnumSet.of(KeyPairType.RSA_2048, KeyPairType.RSA_3072, KeyPairType.RSA_4096);
  }
}
