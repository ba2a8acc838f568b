package io.p11kms.server.sigv4;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.p11kms.hsm.AsymmetricKeys;
import io.p11kms.hsm.HmacType;
import io.p11kms.hsm.WrapMechanism;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.server.access.Caller;
import io.p11kms.server.store.AccessKeyRecord;
import io.p11kms.server.store.AccessKeyScope;
import io.p11kms.server.store.AccessKeys;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;

/**
 * Signing keys of the access keys in the store. The token computes each day's first step, kDate =
 * HMAC-SHA256("AWS4" + secret, date), with C_Sign under the secret's EKT unwrapped as a session
 * object and destroyed at once ({@link AsymmetricKeys#generateMac}); the rest of the chain (region,
 * service, "aws4_request") is computed here. Both are kept in memory for the day, so the token is
 * asked once per access key and day; the secret itself is never outside the token after creation.
 *
 * <p>A key's record (active or not, its scope) is read again from the store after {@code recheck}
 * at the latest, so a key disabled or deleted by {@code p11kms access-key} in another process is
 * refused within that time.
 */
public final class AccessKeySigningKeys implements SigningKeys {
  /** How long a key's record is trusted before it is read again, by default. */
  public static final Duration DEFAULT_RECHECK = Duration.ofSeconds(5);

  private static final int MAX_KEYS = 10_000;

  private record DateScope(String accessKeyId, String date) {}

  private record FullScope(String accessKeyId, String date, String region, String service) {}

  private final AccessKeys store;
  private final AsymmetricKeys hsm;
  private final Cache<String, Optional<AccessKeyRecord>> records;
  private final Cache<DateScope, byte[]> dateKeys;
  private final Cache<FullScope, SigningKey> signingKeys;

  public AccessKeySigningKeys(AccessKeys store, AsymmetricKeys hsm) {
    this(store, hsm, DEFAULT_RECHECK);
  }

  /**
   * @param recheck how long a key's record is trusted before it is read again (zero: every request)
   */
  public AccessKeySigningKeys(AccessKeys store, AsymmetricKeys hsm, Duration recheck) {
    this.store = store;
    this.hsm = hsm;
    this.records = Caffeine.newBuilder().maximumSize(MAX_KEYS).expireAfterWrite(recheck).build();
    // A day and a bit: a date's keys are asked for until five minutes past its end.
    Duration day = Duration.ofHours(25);
    this.dateKeys =
        Caffeine.newBuilder()
            .maximumSize(MAX_KEYS)
            .expireAfterWrite(day)
            .<DateScope, byte[]>removalListener((k, v, cause) -> clear(v))
            .build();
    this.signingKeys =
        Caffeine.newBuilder().maximumSize(4L * MAX_KEYS).expireAfterWrite(day).build();
  }

  @Override
  public Optional<SigningKey> find(String accessKeyId, String date, String region, String service) {
    AccessKeyScope scope = AccessKeyScope.ofSigningService(service);
    if (scope == null
        || accessKeyId == null
        || !accessKeyIdForm(accessKeyId)
        || date == null
        || !dateForm(date)
        || region == null
        || region.isEmpty()
        || region.length() > 64) {
      return Optional.empty();
    }
    Optional<AccessKeyRecord> record = records.get(accessKeyId, store::find);
    if (record.isEmpty() || !record.get().active() || record.get().scope() != scope) {
      return Optional.empty();
    }
    AccessKeyRecord key = record.get();
    return Optional.of(
        signingKeys.get(
            new FullScope(accessKeyId, date, region, service),
            s -> signingKey(key, date, region, service)));
  }

  private SigningKey signingKey(AccessKeyRecord key, String date, String region, String service) {
    byte[] kDate =
        dateKeys.get(
            new DateScope(key.accessKeyId(), date),
            s ->
                hsm.generateMac(
                    new WrappedKey(
                        key.domainKeyGeneration(),
                        WrapMechanism.fromCode(key.wrapMechanismCode()),
                        key.secretEkt(),
                        key.domainKeyKind().role()),
                    HmacType.HMAC_SHA256,
                    date.getBytes(StandardCharsets.US_ASCII)));
    byte[] kSigning = SigV4Verifier.signingKeyFromDateKey(kDate, region, service);
    try {
      return new SigningKey(
          new AccessKeyCaller(key.accessKeyId(), new Caller(key.principal(), key.accountId())),
          kSigning);
    } finally {
      clear(kSigning);
    }
  }

  /** Whether {@code id} has an access key id's form: 16 to 30 of A-Z and 2-7 (base32). */
  static boolean accessKeyIdForm(String id) {
    if (id.length() < 16 || id.length() > 30) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (!((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'))) {
        return false;
      }
    }
    return true;
  }

  /** Whether {@code date} has a scope date's form: eight ASCII digits. */
  static boolean dateForm(String date) {
    if (date.length() != 8) {
      return false;
    }
    for (int i = 0; i < 8; i++) {
      if (date.charAt(i) < '0' || date.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }

  /** Forgets every record and key held (tests; an operator's change is picked up anyway). */
  public void invalidateAll() {
    records.invalidateAll();
    signingKeys.invalidateAll();
    dateKeys.invalidateAll();
  }

  private static void clear(byte[] key) {
    if (key != null) {
      Arrays.fill(key, (byte) 0);
    }
  }
}
