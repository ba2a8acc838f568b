package io.p11kms.server.service;

import io.p11kms.hsm.EktCannotMoveException;
import io.p11kms.hsm.HmacType;
import io.p11kms.hsm.Hsm;
import io.p11kms.hsm.PrivateKeyUsage;
import io.p11kms.hsm.WrapMechanism;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.server.store.AccessKeyRecord;
import io.p11kms.server.store.DomainKeyKind;
import io.p11kms.server.store.KeyRecord;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyVersionRecord;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The re-wrap half of a domain-key rotation: moves every EKT under an older domain-key generation
 * to the newest generation on the token, in batches, while the service keeps serving: key versions,
 * then the secrets of access keys.
 *
 * <p>Each batch is re-wrapped inside the token ({@link Hsm#rewrap}) and stored in one transaction,
 * each row by compare-and-set on the generation it was read with. A crash at any point leaves every
 * row either old or new, and both decrypt while both generations are on the token; running again
 * re-wraps what is left. When no EKT refers to an older generation any more, that generation is
 * recorded as retired. The domain key itself stays on the token (the ceremony makes it
 * non-destroyable): see docs/key-rotation.md.
 *
 * <p>Creating the new generation needs the token's security officer and is not done here (see
 * {@code p11kms rotate-domain-key}); this job only needs the user login the server has.
 */
public final class DomainKeyRewrap {
  private static final Logger log = LoggerFactory.getLogger(DomainKeyRewrap.class);
  public static final int DEFAULT_BATCH = 100;

  private final AtomicLong ektsRewrapped = new AtomicLong();

  /** Called after each batch is re-wrapped in the token and before it is stored (tests crash). */
  @FunctionalInterface
  public interface BeforeCommit {
    void batch(int batchNumber);
  }

  /** What one run did. */
  public record Result(
      int targetGeneration, int rewrapped, int batches, List<Integer> retiredGenerations) {}

  private final Hsm hsm;
  private final KeyStore store;
  private final Clock clock;
  private final int batchSize;
  private final BeforeCommit beforeCommit;

  public DomainKeyRewrap(Hsm hsm, KeyStore store, Clock clock) {
    this(hsm, store, clock, DEFAULT_BATCH, n -> {});
  }

  public DomainKeyRewrap(
      Hsm hsm, KeyStore store, Clock clock, int batchSize, BeforeCommit beforeCommit) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be at least 1, was " + batchSize);
    }
    this.hsm = hsm;
    this.store = store;
    this.clock = clock;
    this.batchSize = batchSize;
    this.beforeCommit = beforeCommit;
  }

  /**
   * Re-wraps every EKT under an older generation to the newest one on the token, then records the
   * older generations no EKT refers to as retired. Safe to run at any time and more than once, on
   * one server or several.
   */
  /** EKTs this server has moved to a newer domain key generation since it started: for metrics. */
  public long ektsRewrapped() {
    return ektsRewrapped.get();
  }

  public synchronized Result run() {
    int target = hsm.currentDomainKeyGeneration();
    if (target < 1) {
      return new Result(0, 0, 0, List.of());
    }
    int rewrapped = 0;
    int batches = 0;
    int stayed = 0;
    UUID after = null;
    while (true) {
      // In version id order, after the last row seen: a row that stays never comes round again.
      List<KeyVersionRecord> batch = store.findVersionsBelowGeneration(target, after, batchSize);
      if (batch.isEmpty()) {
        break;
      }
      after = batch.get(batch.size() - 1).versionId();
      List<Map.Entry<KeyVersionRecord, KeyVersionRecord>> moved = new ArrayList<>(batch.size());
      for (KeyVersionRecord old : batch) {
        WrappedKey now;
        try {
          now =
              old.domainKeyKind() == DomainKeyKind.SYMMETRIC
                  ? hsm.rewrap(wrapped(old), target)
                  : rewrapPrivateKey(old, target);
        } catch (EktCannotMoveException e) {
          // A backing key that derives: its ciphertexts need it to keep deriving.
          stayed++;
          continue;
        }
        moved.add(
            Map.entry(
                old,
                old.rewrapped(
                    now.domainKeyGeneration(),
                    now.wrapMechanism().code(),
                    now.ekt(),
                    DomainKeyKind.of(now.role()))));
      }
      batches++;
      beforeCommit.batch(batches);
      int stored = moved.isEmpty() ? 0 : store.replaceEkts(moved);
      rewrapped += stored;
      ektsRewrapped.addAndGet(stored);
    }
    int accessKeys = rewrapAccessKeys(target);
    rewrapped += accessKeys;
    ektsRewrapped.addAndGet(accessKeys);
    if (stayed > 0) {
      log.warn(
          "{} backing keys stay under older domain key generations: they derive per-request keys,"
              + " which generation {} does not allow; rotate their KMS keys (docs/key-rotation.md)",
          stayed,
          target);
    }
    List<Integer> retired = new ArrayList<>();
    Map<Integer, Long> counts = new java.util.HashMap<>(store.countVersionsByGeneration());
    for (AccessKeyRecord key : store.accessKeys().list(Optional.empty(), Optional.empty())) {
      counts.merge(key.domainKeyGeneration(), 1L, Long::sum);
    }
    List<Integer> already = store.retiredDomainKeys();
    for (int generation = 1; generation < target; generation++) {
      if (counts.getOrDefault(generation, 0L) == 0
          && !already.contains(generation)
          && store.retireDomainKey(generation, clock.instant())) {
        retired.add(generation);
      }
    }
    if (rewrapped > 0 || !retired.isEmpty()) {
      log.info(
          "re-wrapped {} EKTs to domain key generation {} in {} batches; retired generations {}",
          rewrapped,
          target,
          batches,
          retired);
    }
    return new Result(target, rewrapped, batches, retired);
  }

  /**
   * Moves every access key's secret EKT (an HMAC key) under an older generation to {@code target},
   * each by compare-and-set on the generation it was read with; returns how many moved.
   */
  private int rewrapAccessKeys(int target) {
    int moved = 0;
    for (AccessKeyRecord key : store.accessKeys().list(Optional.empty(), Optional.empty())) {
      if (key.domainKeyGeneration() >= target) {
        continue;
      }
      WrappedKey now =
          hsm.rewrapPrivateKey(
              new WrappedKey(
                  key.domainKeyGeneration(),
                  WrapMechanism.fromCode(key.wrapMechanismCode()),
                  key.secretEkt(),
                  key.domainKeyKind().role()),
              null,
              HmacType.HMAC_SHA256,
              null,
              target);
      AccessKeyRecord rewrapped =
          new AccessKeyRecord(
              key.accessKeyId(),
              key.accountId(),
              key.principal(),
              key.scope(),
              key.active(),
              key.createdAt(),
              now.domainKeyGeneration(),
              DomainKeyKind.of(now.role()),
              now.wrapMechanism().code(),
              now.ekt());
      if (store.accessKeys().replaceEkt(key.accessKeyId(), key.domainKeyGeneration(), rewrapped)) {
        moved++;
      }
    }
    return moved;
  }

  /**
   * A private or HMAC key: the token needs its type and usage to unwrap it (under the asymmetric
   * domain key of its generation) before it wraps it under the newest one.
   */
  private WrappedKey rewrapPrivateKey(KeyVersionRecord v, int target) {
    KeyRecord key =
        store
            .findKey(v.keyId())
            .orElseThrow(() -> new IllegalStateException("key version without a key"));
    KeySpec spec = KeySpec.valueOf(key.keySpec());
    PrivateKeyUsage usage =
        !spec.isAsymmetric()
            ? null
            : KeyUsage.valueOf(key.keyUsage()) == KeyUsage.SIGN_VERIFY
                ? PrivateKeyUsage.SIGN
                : PrivateKeyUsage.DECRYPT;
    return hsm.rewrapPrivateKey(
        wrapped(v), spec.keyPairType().orElse(null), spec.hmacType().orElse(null), usage, target);
  }

  private static WrappedKey wrapped(KeyVersionRecord v) {
    return new WrappedKey(
        v.domainKeyGeneration(),
        WrapMechanism.fromCode(v.wrapMechanismCode()),
        v.ekt(),
        v.domainKeyKind().role());
  }
}
