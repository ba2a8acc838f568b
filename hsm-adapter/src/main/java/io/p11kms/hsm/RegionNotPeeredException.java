package io.p11kms.hsm;

/** No trusted transport key for the region on this token, or the key was sent for another one. */
public class RegionNotPeeredException extends HsmException {
  private static final long serialVersionUID = 1L;

  public RegionNotPeeredException(String message) {
    super(message);
  }
}
