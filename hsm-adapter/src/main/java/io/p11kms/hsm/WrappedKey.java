package io.p11kms.hsm;

import java.util.Arrays;

/**
 * An exported key token (EKT): key material wrapped inside the token under a domain key. Safe to
 * store outside the token.
 *
 * @param domainKeyGeneration the generation of the domain key it is wrapped under
 * @param wrapMechanism how it was wrapped
 * @param ekt the wrapped bytes
 */
public record WrappedKey(int domainKeyGeneration, WrapMechanism wrapMechanism, byte[] ekt) {

  public WrappedKey {
    if (domainKeyGeneration < 1) {
      throw new IllegalArgumentException(
          "domain key generation must be at least 1, was " + domainKeyGeneration);
    }
    if (wrapMechanism == null || ekt == null || ekt.length == 0) {
      throw new IllegalArgumentException("a wrapped key needs a mechanism and EKT bytes");
    }
    ekt = ekt.clone();
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
        && Arrays.equals(w.ekt, ekt);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * domainKeyGeneration + wrapMechanism.hashCode()) + Arrays.hashCode(ekt);
  }

  @Override
  public String toString() {
    return "WrappedKey[generation=" + domainKeyGeneration + ", " + wrapMechanism + "]";
  }
}
