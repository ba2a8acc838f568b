package io.p11kms.server.service;

import io.p11kms.hsm.WrapMechanism;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.server.store.KeyRecord;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyVersionRecord;

/**
 * An enabled key with its spec, usage and (only) version, for the asymmetric and HMAC operations:
 * these keys are never rotated, so their first version is their material.
 */
record KeyMaterial(KeyRecord key, KeySpec spec, KeyUsage usage, KeyVersionRecord version) {

  static KeyMaterial of(KeyRecord key, KeyStore store) {
    KeyVersionRecord version =
        store
            .findLatestVersion(key.keyId())
            .orElseThrow(
                () -> new KmsException(KmsError.INTERNAL, "Internal error: key has no version"));
    return new KeyMaterial(
        key, KeySpec.valueOf(key.keySpec()), KeyUsage.valueOf(key.keyUsage()), version);
  }

  /** InvalidKeyUsageException unless the key has {@code expected} usage. */
  KeyMaterial requireUsage(KeyUsage expected, String operation) {
    if (usage != expected) {
      throw new KmsException(
          KmsError.INVALID_KEY_USAGE,
          operation + ": key '" + key.keyId() + "' has KeyUsage " + usage + ", not " + expected);
    }
    return this;
  }

  /** The private or HMAC key as the token takes it. */
  WrappedKey wrapped() {
    return new WrappedKey(
        version.domainKeyGeneration(),
        WrapMechanism.fromCode(version.wrapMechanismCode()),
        version.ekt(),
        version.domainKeyKind().role());
  }

  /** The DER SubjectPublicKeyInfo of an RSA or ECC key. */
  byte[] publicKey() {
    byte[] spki = version.publicKey();
    if (spki == null) {
      throw new KmsException(KmsError.INTERNAL, "Internal error: key has no public key");
    }
    return spki;
  }
}
