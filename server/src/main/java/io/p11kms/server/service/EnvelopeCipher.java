package io.p11kms.server.service;

import io.p11kms.hsm.Derivation;
import io.p11kms.hsm.EnvelopeKeys;
import io.p11kms.hsm.WrapMechanism;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.server.crypto.CiphertextBlob;
import io.p11kms.server.crypto.EncryptionContextEncoder;
import io.p11kms.server.crypto.MalformedCiphertextException;
import io.p11kms.server.store.KeyVersionRecord;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Map;

/**
 * Makes and opens ciphertext blobs under one key version. The token derives a one-use key from the
 * version's backing key and a fresh salt, and runs AES-GCM over the plaintext with the blob's
 * header and the canonical encryption context as AAD.
 *
 * <p>Salt and IV are public parameters, not key material: they come from the JVM's {@link
 * SecureRandom}, which saves a token round trip per request: a DRBG of each thread's own, as one
 * generator shared by the handler threads was a lock every Encrypt queued on. Keys and data keys
 * come from the token.
 */
final class EnvelopeCipher {
  private final EnvelopeKeys hsm;
  private static final ThreadLocal<SecureRandom> GENERATORS =
      ThreadLocal.withInitial(EnvelopeCipher::newGenerator);

  EnvelopeCipher(EnvelopeKeys hsm) {
    this.hsm = hsm;
  }

  byte[] encrypt(KeyVersionRecord version, byte[] plaintext, Map<String, String> context) {
    // Salt and IV from one draw of the generator: each draw runs the DRBG's generate function
    // (its lock and hashes) whatever its length, and 28 bytes take one draw as 16 do.
    byte[] random = new byte[CiphertextBlob.SALT_LENGTH + CiphertextBlob.IV_LENGTH];
    generator().nextBytes(random);
    byte[] salt = Arrays.copyOfRange(random, 0, CiphertextBlob.SALT_LENGTH);
    byte[] iv = Arrays.copyOfRange(random, CiphertextBlob.SALT_LENGTH, random.length);
    WrappedKey backingKey = backingKey(version);
    Derivation derivation = TokenCalls.call("Encrypt", () -> hsm.derivationFor(backingKey));
    byte[] header =
        CiphertextBlob.header(version.keyId(), version.versionId(), derivation.code(), salt, iv);
    byte[] aad = EncryptionContextEncoder.aad(header, context);
    byte[] sealed =
        TokenCalls.call(
            "Encrypt", () -> hsm.encrypt(backingKey, derivation, salt, iv, aad, plaintext));
    return CiphertextBlob.toBytes(
        version.keyId(), version.versionId(), derivation.code(), salt, iv, sealed);
  }

  /**
   * Reads a blob's header, or takes the one {@code lookup} read already; every failure is the one
   * InvalidCiphertextException.
   */
  static CiphertextBlob parse(KeyLookup lookup, byte[] blob) {
    try {
      return lookup.ciphertext(blob);
    } catch (MalformedCiphertextException e) {
      throw KmsException.invalidCiphertext();
    }
  }

  byte[] decrypt(KeyVersionRecord version, CiphertextBlob blob, Map<String, String> context) {
    Derivation derivation =
        Derivation.fromCode(blob.derivationCode()).orElseThrow(KmsException::invalidCiphertext);
    byte[] aad = EncryptionContextEncoder.aad(blob.header(), context);
    return TokenCalls.call(
        "Decrypt",
        () ->
            hsm.decrypt(
                backingKey(version),
                derivation,
                blob.salt(),
                blob.iv(),
                aad,
                blob.ciphertextAndTag()));
  }

  static WrappedKey backingKey(KeyVersionRecord version) {
    return new WrappedKey(
        version.domainKeyGeneration(),
        WrapMechanism.fromCode(version.wrapMechanismCode()),
        version.ekt(),
        version.domainKeyKind().role());
  }

  /**
   * This thread's generator of salts and IVs: a DRBG seeded by the JDK from the system's entropy.
   */
  static SecureRandom generator() {
    return GENERATORS.get();
  }

  private static SecureRandom newGenerator() {
    try {
      return SecureRandom.getInstance("DRBG");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no DRBG", e);
    }
  }
}
