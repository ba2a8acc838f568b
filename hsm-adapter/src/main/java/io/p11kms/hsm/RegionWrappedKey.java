package io.p11kms.hsm;

import io.p11kms.hsm.domain.TransportKey;

/**
 * A backing key on its way to another region: wrapped inside the source region's token with
 * RSAES-OAEP under the destination region's transport key, to be unwrapped only inside the
 * destination's token. Safe to send over any channel; only that token can open it.
 *
 * @param transportFingerprint the fingerprint of the destination's transport key it is wrapped
 *     under ({@link TransportKey#fingerprint()})
 * @param oaepHash the hash of RSAES-OAEP and its MGF1: SHA-256 where the source token can, else
 *     SHA-1
 * @param wrapped the wrapped bytes
 */
public record RegionWrappedKey(
    String transportFingerprint, DigestAlgorithm oaepHash, byte[] wrapped) {

  public RegionWrappedKey {
    if (transportFingerprint == null
        || !transportFingerprint.startsWith("sha256:")
        || (oaepHash != DigestAlgorithm.SHA_1 && oaepHash != DigestAlgorithm.SHA_256)
        || wrapped == null
        || wrapped.length == 0) {
      throw new IllegalArgumentException(
          "a region-wrapped key needs a transport fingerprint, an OAEP hash (SHA-1 or SHA-256)"
              + " and the wrapped bytes");
    }
    wrapped = wrapped.clone();
  }

  @Override
  public byte[] wrapped() {
    return wrapped.clone();
  }

  /** The import algorithm that unwraps it: RSAES-OAEP of {@link #oaepHash}. */
  public ImportWrappingAlgorithm algorithm() {
    return oaepHash == DigestAlgorithm.SHA_256
        ? ImportWrappingAlgorithm.RSAES_OAEP_SHA_256
        : ImportWrappingAlgorithm.RSAES_OAEP_SHA_1;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RegionWrappedKey r
        && r.transportFingerprint.equals(transportFingerprint)
        && r.oaepHash == oaepHash
        && java.util.Arrays.equals(r.wrapped, wrapped);
  }

  @Override
  public int hashCode() {
    return transportFingerprint.hashCode() * 31 + java.util.Arrays.hashCode(wrapped);
  }

  @Override
  public String toString() {
    return "RegionWrappedKey["
        + transportFingerprint
        + ", "
        + oaepHash
        + ", "
        + wrapped.length
        + " bytes]";
  }
}
