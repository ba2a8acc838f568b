package io.p11kms.server.store;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

/**
 * A KMS key's metadata as stored. The strings hold enum names ({@code ENCRYPT_DECRYPT}, {@code
 * SYMMETRIC_DEFAULT}, {@code ENABLED}, {@code AWS_KMS}); the service maps them. Instants are kept
 * at microsecond precision (what the store holds), so a record reads back equal to what was
 * written.
 *
 * @param deletionDate when a key pending deletion will be deleted; null otherwise
 * @param pendingWindowDays the deletion window in days while pending deletion; null otherwise
 * @param account the key's account; {@link #DEFAULT_ACCOUNT} (empty) for the default account
 * @param keyManager {@link #CUSTOMER}, {@code AWS} (service-managed) or {@code SERVICE_OWNED}
 * @param service the registered service of a service-managed or service-owned key; else null
 */
public record KeyRecord(
    UUID keyId,
    Instant creationDate,
    String description,
    String keyUsage,
    String keySpec,
    String keyState,
    String origin,
    Instant deletionDate,
    Integer pendingWindowDays,
    String account,
    String keyManager,
    String service) {

  /** A customer managed key of the default account. */
  public KeyRecord(
      UUID keyId,
      Instant creationDate,
      String description,
      String keyUsage,
      String keySpec,
      String keyState,
      String origin,
      Instant deletionDate,
      Integer pendingWindowDays) {
    this(
        keyId,
        creationDate,
        description,
        keyUsage,
        keySpec,
        keyState,
        origin,
        deletionDate,
        pendingWindowDays,
        DEFAULT_ACCOUNT,
        CUSTOMER,
        null);
  }

  /** A key that is not pending deletion. */
  public KeyRecord(
      UUID keyId,
      Instant creationDate,
      String description,
      String keyUsage,
      String keySpec,
      String keyState,
      String origin,
      Instant deletionDate) {
    this(keyId, creationDate, description, keyUsage, keySpec, keyState, origin, deletionDate, null);
  }

  public KeyRecord {
    requireNonNull(keyId, "key id");
    requireNonNull(creationDate, "creation date");
    requireNonNull(description, "description");
    requireNonNull(keyUsage, "key usage");
    requireNonNull(keySpec, "key spec");
    requireNonNull(keyState, "key state");
    requireNonNull(origin, "origin");
    requireNonNull(account, "account");
    requireNonNull(keyManager, "key manager");
    creationDate = creationDate.truncatedTo(ChronoUnit.MICROS);
    deletionDate = deletionDate == null ? null : deletionDate.truncatedTo(ChronoUnit.MICROS);
  }

  /** How the store names the default account ({@code arn.account}, whatever its id). */
  public static final String DEFAULT_ACCOUNT = "";

  /** The key manager of a key an account made itself. */
  public static final String CUSTOMER = "CUSTOMER";

  static void requireNonNull(Object value, String what) {
    if (value == null) {
      throw new IllegalArgumentException(what + " is required");
    }
  }
}
