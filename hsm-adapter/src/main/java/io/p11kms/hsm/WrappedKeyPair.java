package io.p11kms.hsm;

/**
 * A key pair made in the token: the private key only wrapped (an EKT under the asymmetric domain
 * key, {@link WrapMechanism#AES_KEY_WRAP_PAD}), the public key in clear.
 *
 * @param privateKey the wrapped private key
 * @param subjectPublicKeyInfo the public key, DER X.509 SubjectPublicKeyInfo
 */
public record WrappedKeyPair(WrappedKey privateKey, byte[] subjectPublicKeyInfo) {

  public WrappedKeyPair {
    if (privateKey == null || subjectPublicKeyInfo == null || subjectPublicKeyInfo.length == 0) {
      throw new IllegalArgumentException("a key pair needs a wrapped private key and a public key");
    }
    subjectPublicKeyInfo = subjectPublicKeyInfo.clone();
  }

  @Override
  public byte[] subjectPublicKeyInfo() {
    return subjectPublicKeyInfo.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof WrappedKeyPair p
        && p.privateKey.equals(privateKey)
        && java.util.Arrays.equals(p.subjectPublicKeyInfo, subjectPublicKeyInfo);
  }

  @Override
  public int hashCode() {
    return 31 * privateKey.hashCode() + java.util.Arrays.hashCode(subjectPublicKeyInfo);
  }

  @Override
  public String toString() {
    return "WrappedKeyPair[" + privateKey + "]";
  }
}
