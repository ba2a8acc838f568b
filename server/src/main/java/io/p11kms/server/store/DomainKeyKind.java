package io.p11kms.server.store;

/**
 * Which domain key of a generation an EKT is wrapped under. Stored by name with the EKT, so that a
 * re-wrap knows which token call moves it.
 */
public enum DomainKeyKind {
  /** {@code domain-key/<n>}: HSM backing keys of symmetric keys (CKM_AES_KEY_WRAP). */
  SYMMETRIC,
  /** {@code domain-key-asym/<n>}: private keys and HMAC keys (CKM_AES_KEY_WRAP_PAD). */
  ASYMMETRIC
}
