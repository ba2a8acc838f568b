package io.p11kms.server.sigv4;

import io.p11kms.hsm.Hsm;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.server.auth.AccountIds;
import io.p11kms.server.store.AccessKeyRecord;
import io.p11kms.server.store.AccessKeyScope;
import io.p11kms.server.store.AccessKeys;
import io.p11kms.server.store.DomainKeyKind;
import io.p11kms.server.store.KeyAlreadyExistsException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * Makes and manages access keys. A new key's secret comes from the token's random generator, is
 * handed to the caller once, and is kept only as an EKT: "AWS4" + the secret imported into the
 * token as an HMAC key and wrapped under the HMAC domain key ({@link Hsm#importHmacKey}). Nothing
 * here logs, and no message carries the secret.
 *
 * <p>An id is {@code AKIA} and 16 characters of A-Z and 2-7 (20 in all, as AWS's and within the XKS
 * specification's 20-30). A secret is 44 characters of base64 (A-Z, a-z, 0-9, + and /), 264 random
 * bits: the XKS specification asks for 43-64 characters of that alphabet and at least 256 bits; the
 * AWS SDKs and CLI take any length.
 */
public final class AccessKeyService {
  /** Characters of a secret. */
  public static final int SECRET_LENGTH = 44;

  private static final String ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  private static final int ID_RANDOM_CHARS = 16;
  private static final int SECRET_RANDOM_BYTES = SECRET_LENGTH / 4 * 3;
  private static final SecureRandom IDS = new SecureRandom();

  private final Hsm hsm;
  private final AccessKeys keys;
  private final Clock clock;

  public AccessKeyService(Hsm hsm, AccessKeys keys, Clock clock) {
    this.hsm = hsm;
    this.keys = keys;
    this.clock = clock;
  }

  /** A new access key: its record, and its secret, which exists nowhere else. */
  public static final class NewAccessKey {
    private final AccessKeyRecord record;
    private final char[] secret;

    NewAccessKey(AccessKeyRecord record, char[] secret) {
      this.record = record;
      this.secret = secret;
    }

    public AccessKeyRecord record() {
      return record;
    }

    /** The secret, to show once; {@link #clearSecret} after. */
    public char[] secret() {
      return secret;
    }

    public void clearSecret() {
      Arrays.fill(secret, '\0');
    }

    @Override
    public String toString() {
      return "NewAccessKey[" + record.accessKeyId() + "]";
    }
  }

  /**
   * Creates an active access key for {@code principal} of {@code accountId}.
   *
   * @throws IllegalArgumentException when the account or principal is malformed, or the principal
   *     already has {@value AccessKeys#MAX_ACTIVE} active keys of {@code scope} (checked before any
   *     token call, and again by the store)
   */
  public NewAccessKey create(String accountId, String principal, AccessKeyScope scope) {
    checkPrincipal(accountId, principal, scope);
    if (activeKeys(accountId, principal, scope) >= AccessKeys.MAX_ACTIVE) {
      throw limitReached(principal, scope);
    }
    byte[] random = hsm.generateRandom(SECRET_RANDOM_BYTES);
    byte[] base64 = Base64.getEncoder().encode(random);
    Arrays.fill(random, (byte) 0);
    byte[] signingSecret = new byte[4 + base64.length];
    System.arraycopy("AWS4".getBytes(StandardCharsets.US_ASCII), 0, signingSecret, 0, 4);
    System.arraycopy(base64, 0, signingSecret, 4, base64.length);
    char[] secret = new char[base64.length];
    for (int i = 0; i < base64.length; i++) {
      secret[i] = (char) base64[i];
    }
    Arrays.fill(base64, (byte) 0);
    try {
      WrappedKey ekt;
      try {
        ekt = hsm.importHmacKey(signingSecret);
      } finally {
        Arrays.fill(signingSecret, (byte) 0);
      }
      for (int attempt = 1; ; attempt++) {
        AccessKeyRecord record =
            new AccessKeyRecord(
                newId(),
                accountId,
                principal,
                scope,
                true,
                clock.instant(),
                ekt.domainKeyGeneration(),
                DomainKeyKind.of(ekt.role()),
                ekt.wrapMechanism().code(),
                ekt.ekt());
        try {
          if (!keys.create(record)) {
            throw limitReached(principal, scope);
          }
          return new NewAccessKey(record, secret);
        } catch (KeyAlreadyExistsException e) {
          if (attempt >= 3) {
            throw e;
          }
        }
      }
    } catch (RuntimeException e) {
      Arrays.fill(secret, '\0');
      throw e;
    }
  }

  /** Keys in creation order: all, of one account, or of one principal of it. */
  public List<AccessKeyRecord> list(Optional<String> accountId, Optional<String> principal) {
    accountId.ifPresent(AccountIds::require);
    return keys.list(accountId, principal);
  }

  public Optional<AccessKeyRecord> find(String accessKeyId) {
    return keys.find(accessKeyId);
  }

  /**
   * Makes a key inactive (requests signed with it are refused from then on, within {@link
   * AccessKeySigningKeys}'s recheck interval) or active again.
   *
   * @throws IllegalArgumentException when there is no such key, or activating it would exceed
   *     {@value AccessKeys#MAX_ACTIVE} active keys
   */
  public AccessKeyRecord setActive(String accessKeyId, boolean active) {
    AccessKeyRecord key =
        keys.find(accessKeyId)
            .orElseThrow(
                () -> new IllegalArgumentException("no access key " + quoted(accessKeyId)));
    if (!keys.setActive(accessKeyId, active)) {
      if (keys.find(accessKeyId).isEmpty()) {
        throw new IllegalArgumentException("no access key " + quoted(accessKeyId));
      }
      throw limitReached(key.principal(), key.scope());
    }
    return key.withActive(active);
  }

  /**
   * Deletes a key.
   *
   * @throws IllegalArgumentException when there is no such key
   */
  public void delete(String accessKeyId) {
    if (!keys.delete(accessKeyId)) {
      throw new IllegalArgumentException("no access key " + quoted(accessKeyId));
    }
  }

  private long activeKeys(String accountId, String principal, AccessKeyScope scope) {
    return keys.list(Optional.of(accountId), Optional.of(principal)).stream()
        .filter(k -> k.active() && k.scope() == scope)
        .count();
  }

  private static void checkPrincipal(String accountId, String principal, AccessKeyScope scope) {
    AccountIds.require(accountId);
    if (principal == null
        || principal.isEmpty()
        || principal.length() > 1024
        || !principal.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw new IllegalArgumentException(
          "a principal is 1 to 1024 printable ASCII characters without spaces");
    }
    if (scope == null) {
      throw new IllegalArgumentException("a scope is required");
    }
  }

  private static IllegalArgumentException limitReached(String principal, AccessKeyScope scope) {
    return new IllegalArgumentException(
        principal
            + " already has "
            + AccessKeys.MAX_ACTIVE
            + " active "
            + scope
            + " access keys: disable or delete one first");
  }

  private static String newId() {
    StringBuilder id = new StringBuilder("AKIA");
    for (int i = 0; i < ID_RANDOM_CHARS; i++) {
      id.append(ID_ALPHABET.charAt(IDS.nextInt(ID_ALPHABET.length())));
    }
    return id.toString();
  }

  private static String quoted(String id) {
    return id == null ? "null" : "'" + (id.length() > 64 ? id.substring(0, 64) + "..." : id) + "'";
  }
}
