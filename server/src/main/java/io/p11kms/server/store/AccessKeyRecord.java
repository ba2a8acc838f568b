package io.p11kms.server.store;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * An access key: its id, whom it authenticates (a principal of an account), for which front end,
 * whether it is active, and its secret only as an EKT ("AWS4" + the secret as an HMAC key, wrapped
 * under the {@code domainKeyKind} domain key of generation {@code domainKeyGeneration}). The EKT is
 * copied in and out; {@link #toString()} shows its length only.
 *
 * @param accessKeyId 16 to 30 characters of A-Z and 2-7
 * @param accountId the principal's account, 12 digits
 * @param principal as key policies name it
 * @param active whether requests signed with it are accepted
 * @param createdAt stored to the microsecond
 */
public record AccessKeyRecord(
    String accessKeyId,
    String accountId,
    String principal,
    AccessKeyScope scope,
    boolean active,
    Instant createdAt,
    int domainKeyGeneration,
    DomainKeyKind domainKeyKind,
    int wrapMechanismCode,
    byte[] secretEkt) {

  public AccessKeyRecord {
    KeyRecord.requireNonNull(accessKeyId, "access key id");
    KeyRecord.requireNonNull(accountId, "account id");
    KeyRecord.requireNonNull(principal, "principal");
    KeyRecord.requireNonNull(scope, "scope");
    KeyRecord.requireNonNull(createdAt, "creation time");
    KeyRecord.requireNonNull(domainKeyKind, "domain key kind");
    KeyRecord.requireNonNull(secretEkt, "secret EKT");
    if (!accessKeyId.matches("[A-Z2-7]{16,30}")) {
      throw new IllegalArgumentException("an access key id is 16 to 30 characters of A-Z and 2-7");
    }
    if (!accountId.matches("[0-9]{12}")) {
      throw new IllegalArgumentException("an account id is 12 digits");
    }
    if (principal.isEmpty() || principal.length() > 1024) {
      throw new IllegalArgumentException("a principal is 1 to 1024 characters");
    }
    createdAt = createdAt.truncatedTo(ChronoUnit.MICROS);
    secretEkt = secretEkt.clone();
  }

  @Override
  public byte[] secretEkt() {
    return secretEkt.clone();
  }

  /** This record with {@code active} set. */
  public AccessKeyRecord withActive(boolean isActive) {
    return new AccessKeyRecord(
        accessKeyId,
        accountId,
        principal,
        scope,
        isActive,
        createdAt,
        domainKeyGeneration,
        domainKeyKind,
        wrapMechanismCode,
        secretEkt);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AccessKeyRecord r
        && r.accessKeyId.equals(accessKeyId)
        && r.accountId.equals(accountId)
        && r.principal.equals(principal)
        && r.scope == scope
        && r.active == active
        && r.createdAt.equals(createdAt)
        && r.domainKeyGeneration == domainKeyGeneration
        && r.domainKeyKind == domainKeyKind
        && r.wrapMechanismCode == wrapMechanismCode
        && java.util.Arrays.equals(r.secretEkt, secretEkt);
  }

  @Override
  public int hashCode() {
    return accessKeyId.hashCode();
  }

  @Override
  public String toString() {
    return "AccessKeyRecord["
        + accessKeyId
        + ", "
        + principal
        + " (account "
        + accountId
        + "), "
        + scope
        + (active ? ", active" : ", inactive")
        + ", EKT of "
        + secretEkt.length
        + " bytes under "
        + domainKeyKind
        + "/"
        + domainKeyGeneration
        + "]";
  }
}
