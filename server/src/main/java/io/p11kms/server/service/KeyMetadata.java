package io.p11kms.server.service;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * What DescribeKey tells about a key.
 *
 * @param account the key's account (12 digits), as in its ARN
 * @param keyManager CUSTOMER, or AWS for a service-managed key
 * @param deletionDate when the key will be deleted, while it is pending deletion
 * @param pendingDeletionWindowInDays the deletion window, while the key is pending deletion
 * @param origin AWS_KMS (generated in the token) or EXTERNAL (imported)
 * @param expirationModel an EXTERNAL key's, while it has key material
 * @param validTo when an EXTERNAL key's material expires, if it does
 */
public record KeyMetadata(
    UUID keyId,
    String arn,
    Instant creationDate,
    String description,
    KeyUsage keyUsage,
    KeySpec keySpec,
    KeyState keyState,
    Optional<Instant> deletionDate,
    Optional<Integer> pendingDeletionWindowInDays,
    String account,
    KeyManager keyManager,
    Origin origin,
    Optional<ExpirationModel> expirationModel,
    Optional<Instant> validTo,
    Optional<MultiRegionConfiguration> multiRegionConfiguration) {

  /** Whether the key is a multi-Region key (primary or replica). */
  public boolean multiRegion() {
    return multiRegionConfiguration.isPresent();
  }

  /** AWS's KeyMetadata.Enabled: the key is usable (Enabled, or Updating). */
  public boolean enabled() {
    return keyState == KeyState.ENABLED || keyState == KeyState.UPDATING;
  }

  /** Empty unless the key encrypts. */
  public List<EncryptionAlgorithm> encryptionAlgorithms() {
    return EncryptionAlgorithm.of(keySpec, keyUsage);
  }

  /** Empty unless the key signs. */
  public List<SigningAlgorithm> signingAlgorithms() {
    return SigningAlgorithm.of(keySpec, keyUsage);
  }

  /** Empty unless the key makes MACs. */
  public List<MacAlgorithm> macAlgorithms() {
    return MacAlgorithm.of(keySpec, keyUsage);
  }
}
