package io.p11kms.hsm;

import io.p11kms.hsm.domain.DomainKeyRole;
import java.util.Arrays;

/**
 * An exported key token (EKT): key material wrapped inside the token under a domain key. Safe to
 * store outside the token.
 *
 * @param domainKeyGeneration the generation of the domain key it is wrapped under
 * @param wrapMechanism how it was wrapped
 * @param ekt the wrapped bytes
 * @param role which of the generation's domain keys it is wrapped under
 */
public record WrappedKey(
    int domainKeyGeneration, WrapMechanism wrapMechanism, byte[] ekt, DomainKeyRole role) {

  public WrappedKey {
    if (domainKeyGeneration < 1) {
      throw new IllegalArgumentException(
          "domain key generation must be at least 1, was " + domainKeyGeneration);
    }
    if (wrapMechanism == null || ekt == null || ekt.length == 0 || role == null) {
      throw new IllegalArgumentException("a wrapped key needs a mechanism, a role and EKT bytes");
    }
    ekt = ekt.clone();
  }

  /**
   * An EKT of a backing key ({@link WrapMechanism#AES_KEY_WRAP}) or of a private key ({@link
   * WrapMechanism#AES_KEY_WRAP_PAD}): the roles before HMAC keys had a domain key of their own.
   */
  public WrappedKey(int domainKeyGeneration, WrapMechanism wrapMechanism, byte[] ekt) {
    this(
        domainKeyGeneration,
        wrapMechanism,
        ekt,
        wrapMechanism == WrapMechanism.AES_KEY_WRAP
            ? DomainKeyRole.SYMMETRIC
            : DomainKeyRole.ASYMMETRIC);
  }

  @Override
  public byte[] ekt() {
    return ekt.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof WrappedKey w
        && w.domainKeyGeneration == domainKeyGeneration
        && w.wrapMechanism == wrapMechanism
        && w.role == role
        && Arrays.equals(w.ekt, ekt);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * (31 * domainKeyGeneration + wrapMechanism.hashCode()) + role.hashCode())
        + Arrays.hashCode(ekt);
  }

  @Override
  public String toString() {
    return "WrappedKey[generation="
        + domainKeyGeneration
        + ", "
        + role
        + ", "
        + wrapMechanism
        + "]";
  }
}
