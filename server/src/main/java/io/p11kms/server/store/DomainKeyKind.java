package io.p11kms.server.store;

import io.p11kms.hsm.domain.DomainKeyRole;

/**
 * Which domain key of a generation an EKT is wrapped under. Stored by name with the EKT, so that a
 * re-wrap knows which token call moves it.
 */
public enum DomainKeyKind {
  /** {@code domain-key/<n>}: HSM backing keys of symmetric keys (CKM_AES_KEY_WRAP). */
  SYMMETRIC,
  /**
   * {@code domain-key-asym/<n>}: private keys (CKM_AES_KEY_WRAP_PAD), and HMAC keys made before
   * HMAC keys had a domain key of their own.
   */
  ASYMMETRIC,
  /** {@code domain-key-hmac/<n>}: HMAC keys (CKM_AES_KEY_WRAP_PAD). */
  HMAC;

  /** The token's domain key role of this kind. */
  public DomainKeyRole role() {
    return switch (this) {
      case SYMMETRIC -> DomainKeyRole.SYMMETRIC;
      case ASYMMETRIC -> DomainKeyRole.ASYMMETRIC;
      case HMAC -> DomainKeyRole.HMAC;
    };
  }

  /** The kind of {@code role}. */
  public static DomainKeyKind of(DomainKeyRole role) {
    return switch (role) {
      case SYMMETRIC -> SYMMETRIC;
      case ASYMMETRIC -> ASYMMETRIC;
      case HMAC -> HMAC;
    };
  }
}
