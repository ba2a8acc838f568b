package io.p11kms.hsm;

import java.time.Instant;

/**
 * An RSA key pair made in the token to receive key material: its private half stays there, a token
 * object that can only unwrap, until it is used or expires.
 *
 * @param id names the private key on the token (what {@link Hsm#importBackingKey} is given back)
 * @param algorithm the one wrapping algorithm its private key unwraps
 * @param expiresAt after this, {@link Hsm#destroyExpiredImportWrappingKeys} destroys it
 * @param subjectPublicKeyInfo the public half, DER X.509 SubjectPublicKeyInfo
 */
public record ImportWrappingKey(
    String id, ImportWrappingAlgorithm algorithm, Instant expiresAt, byte[] subjectPublicKeyInfo) {

  public ImportWrappingKey {
    if (id == null || algorithm == null || expiresAt == null || subjectPublicKeyInfo == null) {
      throw new IllegalArgumentException("an import wrapping key needs all of its values");
    }
    subjectPublicKeyInfo = subjectPublicKeyInfo.clone();
  }

  @Override
  public byte[] subjectPublicKeyInfo() {
    return subjectPublicKeyInfo.clone();
  }
}
