package io.p11kms.hsm;

/**
 * A customer data key pair: the private key in plaintext, returned to the caller by design (as a
 * data key is), and its public key.
 *
 * @param privateKeyPkcs8 the private key, DER PKCS#8 PrivateKeyInfo
 * @param subjectPublicKeyInfo the public key, DER X.509 SubjectPublicKeyInfo
 */
public record DataKeyPair(byte[] privateKeyPkcs8, byte[] subjectPublicKeyInfo) {

  public DataKeyPair {
    if (privateKeyPkcs8 == null
        || privateKeyPkcs8.length == 0
        || subjectPublicKeyInfo == null
        || subjectPublicKeyInfo.length == 0) {
      throw new IllegalArgumentException("a data key pair needs a private and a public key");
    }
    privateKeyPkcs8 = privateKeyPkcs8.clone();
    subjectPublicKeyInfo = subjectPublicKeyInfo.clone();
  }

  @Override
  public byte[] privateKeyPkcs8() {
    return privateKeyPkcs8.clone();
  }

  @Override
  public byte[] subjectPublicKeyInfo() {
    return subjectPublicKeyInfo.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DataKeyPair p
        && java.util.Arrays.equals(p.privateKeyPkcs8, privateKeyPkcs8)
        && java.util.Arrays.equals(p.subjectPublicKeyInfo, subjectPublicKeyInfo);
  }

  @Override
  public int hashCode() {
    return 31 * java.util.Arrays.hashCode(privateKeyPkcs8)
        + java.util.Arrays.hashCode(subjectPublicKeyInfo);
  }

  /** Never prints key bytes. */
  @Override
  public String toString() {
    return "DataKeyPair[private key redacted]";
  }
}
