package io.p11kms.hsm;

import io.p11kms.hsm.domain.RegionPeering;
import io.p11kms.hsm.domain.TransportKey;

/**
 * Multi-Region keys. A backing key goes to another region only wrapped under that region's
 * transport key, which this token's SO trusted ({@link RegionPeering}) after its operator confirmed
 * the fingerprint, and is unwrapped only inside the destination's token, which wraps it at once
 * under its own domain key.
 *
 * <p>Failures: {@link HsmUnavailableException} when the token cannot be reached in time; any other
 * {@link HsmException} is an internal fault.
 */
public interface RegionTransport {

  /**
   * This token's transport key for receiving backing keys from other regions: made on first call (a
   * private token object, never extractable, that can only unwrap into a backing key), the same one
   * after. Public values only.
   */
  TransportKey regionTransportKey();

  /**
   * Wraps the backing key {@code ekt} for {@code region} under the transport key trusted for it
   * here: unwrapped as a session object, wrapped with RSAES-OAEP, destroyed.
   *
   * @throws RegionNotPeeredException when no transport key of {@code region} is trusted here
   */
  RegionWrappedKey wrapForRegion(String region, WrappedKey ekt);

  /**
   * Unwraps a backing key sent by another region with this token's transport key and returns it
   * wrapped under the current domain key.
   *
   * @throws RegionNotPeeredException when it was wrapped for another transport key
   * @throws HsmDecryptionFailedException when the bytes do not unwrap
   */
  WrappedKey receiveFromRegion(RegionWrappedKey sent);
}
