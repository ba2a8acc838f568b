package io.p11kms.hsm;

import io.p11kms.hsm.testing.NssTestToken;
import io.p11kms.hsm.testing.TestToken;

/**
 * The token contract on NSS softoken: its single-part AES-GCM encrypt misreports the output length
 * (the message API works), and it enforces no custody: a user sets TRUSTED, WRAP_WITH_TRUSTED is
 * ignored, UNWRAP_TEMPLATE is dropped.
 */
class NssTokenContractTest extends TokenContract {
  @Override
  TestToken newToken() {
    return NssTestToken.create();
  }

  @Override
  TokenCapabilities expectedCapabilities() {
    return new TokenCapabilities(GcmEncryption.MESSAGE, false, false, false);
  }
}
