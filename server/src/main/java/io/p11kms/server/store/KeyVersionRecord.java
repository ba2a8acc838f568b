package io.p11kms.server.store;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Objects;
import java.util.UUID;

/**
 * One version of a key's backing material: the EKT (the backing key, private key or HMAC key
 * wrapped under the {@code domainKeyKind} domain key of generation {@code domainKeyGeneration} with
 * the mechanism {@code wrapMechanismCode}). The EKT and public key are copied in and out; {@link
 * #toString()} shows the EKT's length only.
 *
 * @param versionNumber 1 for the key's first version, then 2, 3, ...
 * @param domainKeyKind SYMMETRIC for backing keys, ASYMMETRIC for private and HMAC keys
 * @param publicKey the DER SubjectPublicKeyInfo of an RSA or ECC key (public material, in clear);
 *     null for other keys
 */
public record KeyVersionRecord(
    UUID keyId,
    UUID versionId,
    int versionNumber,
    Instant createdAt,
    int domainKeyGeneration,
    int wrapMechanismCode,
    byte[] ekt,
    DomainKeyKind domainKeyKind,
    byte[] publicKey) {

  /** A version of a symmetric key: a backing key under the symmetric domain key, no public key. */
  public KeyVersionRecord(
      UUID keyId,
      UUID versionId,
      int versionNumber,
      Instant createdAt,
      int domainKeyGeneration,
      int wrapMechanismCode,
      byte[] ekt) {
    this(
        keyId,
        versionId,
        versionNumber,
        createdAt,
        domainKeyGeneration,
        wrapMechanismCode,
        ekt,
        DomainKeyKind.SYMMETRIC,
        null);
  }

  public KeyVersionRecord {
    KeyRecord.requireNonNull(keyId, "key id");
    KeyRecord.requireNonNull(versionId, "version id");
    KeyRecord.requireNonNull(createdAt, "creation time");
    KeyRecord.requireNonNull(ekt, "EKT");
    KeyRecord.requireNonNull(domainKeyKind, "domain key kind");
    if (versionNumber < 1) {
      throw new IllegalArgumentException("version number must be at least 1, was " + versionNumber);
    }
    if (ekt.length == 0) {
      throw new IllegalArgumentException("EKT must not be empty");
    }
    createdAt = createdAt.truncatedTo(ChronoUnit.MICROS);
    ekt = ekt.clone();
    publicKey = publicKey == null ? null : publicKey.clone();
  }

  @Override
  public byte[] ekt() {
    return ekt.clone();
  }

  @Override
  public byte[] publicKey() {
    return publicKey == null ? null : publicKey.clone();
  }

  /** This version with its EKT moved to another domain key generation (same kind). */
  public KeyVersionRecord rewrapped(int generation, int mechanismCode, byte[] newEkt) {
    return rewrapped(generation, mechanismCode, newEkt, domainKeyKind);
  }

  /**
   * The same version with its EKT moved to another generation and kind of domain key (an HMAC key
   * made under the asymmetric domain key moves to the HMAC one).
   */
  public KeyVersionRecord rewrapped(
      int generation, int mechanismCode, byte[] newEkt, DomainKeyKind kind) {
    return new KeyVersionRecord(
        keyId,
        versionId,
        versionNumber,
        createdAt,
        generation,
        mechanismCode,
        newEkt,
        kind,
        publicKey);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KeyVersionRecord other
        && keyId.equals(other.keyId)
        && versionId.equals(other.versionId)
        && versionNumber == other.versionNumber
        && createdAt.equals(other.createdAt)
        && domainKeyGeneration == other.domainKeyGeneration
        && wrapMechanismCode == other.wrapMechanismCode
        && Arrays.equals(ekt, other.ekt)
        && domainKeyKind == other.domainKeyKind
        && Arrays.equals(publicKey, other.publicKey);
  }

  @Override
  public int hashCode() {
    return 31
            * Objects.hash(
                keyId, versionId, versionNumber, createdAt, domainKeyGeneration, wrapMechanismCode)
        + Arrays.hashCode(ekt)
        + 17 * domainKeyKind.hashCode();
  }

  @Override
  public String toString() {
    return "KeyVersionRecord[keyId="
        + keyId
        + ", versionId="
        + versionId
        + ", versionNumber="
        + versionNumber
        + ", createdAt="
        + createdAt
        + ", domainKeyGeneration="
        + domainKeyGeneration
        + ", wrapMechanismCode="
        + wrapMechanismCode
        + ", domainKeyKind="
        + domainKeyKind
        + ", ektLength="
        + ekt.length
        + (publicKey == null ? "" : ", publicKeyLength=" + publicKey.length)
        + "]";
  }
}
