package io.p11kms.server.service;

import io.p11kms.hsm.HmacType;
import java.util.List;

/** GenerateMac and VerifyMac algorithms, as AWS KMS names them: one per HMAC key spec. */
public enum MacAlgorithm {
  HMAC_SHA_224(KeySpec.HMAC_224),
  HMAC_SHA_256(KeySpec.HMAC_256),
  HMAC_SHA_384(KeySpec.HMAC_384),
  HMAC_SHA_512(KeySpec.HMAC_512);

  private final KeySpec spec;

  MacAlgorithm(KeySpec spec) {
    this.spec = spec;
  }

  HmacType hmacType() {
    return spec.hmacType().orElseThrow();
  }

  public static List<MacAlgorithm> of(KeySpec spec, KeyUsage usage) {
    if (usage != KeyUsage.GENERATE_VERIFY_MAC) {
      return List.of();
    }
    for (MacAlgorithm m : values()) {
      if (m.spec == spec) {
        return List.of(m);
      }
    }
    return List.of();
  }
}
