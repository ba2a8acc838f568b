package io.p11kms.server.access;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.p11kms.server.config.RefusalAuditConfig;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How many requests refused before authentication (no, a malformed or a wrong signature, an unknown
 * access key) are recorded in the audit log: up to {@code perAddress} a minute from one client
 * address (a burst of as many, then one every {@code 60 / perAddress} seconds) and {@code overall}
 * a minute from all addresses together. Anyone who can reach a listener can send such requests, so
 * without a bound they could grow the audit log and its token-signed checkpoints at will. The
 * requests over the bound are refused all the same, only not recorded: they are counted ({@link
 * #notAudited()}, a metric) and summed up in one log line a minute at most.
 */
public final class RefusalAuditLimit {
  private static final Logger log = LoggerFactory.getLogger(RefusalAuditLimit.class);

  /** The default bound per client address, a minute. */
  public static final int DEFAULT_PER_ADDRESS = RefusalAuditConfig.DEFAULT_PER_ADDRESS;

  /** The default bound over all addresses, a minute. */
  public static final int DEFAULT_OVERALL = RefusalAuditConfig.DEFAULT_OVERALL;

  /** Client addresses remembered at most; the least recently seen are forgotten first. */
  private static final int ADDRESSES = 100_000;

  private static final Duration MINUTE = Duration.ofMinutes(1);

  private final Clock clock;
  private final int perAddress;
  private final Cache<String, Budget> addresses;
  private final Budget overall;
  private final AtomicLong notAudited = new AtomicLong();
  private final AtomicLong notAuditedSinceLogged = new AtomicLong();
  private volatile long loggedAtMillis;

  public RefusalAuditLimit(Clock clock, int perAddress, int overall) {
    if (perAddress < 1 || overall < perAddress) {
      throw new IllegalArgumentException("bounds must be 1 <= per address <= overall");
    }
    this.clock = clock;
    this.perAddress = perAddress;
    this.addresses = Caffeine.newBuilder().maximumSize(ADDRESSES).expireAfterAccess(MINUTE).build();
    this.overall = new Budget(overall, clock.millis());
    this.loggedAtMillis = clock.millis();
  }

  /** The bounds {@code config} sets ({@code audit.refused.*}), on {@code clock}. */
  public static RefusalAuditLimit of(Clock clock, RefusalAuditConfig config) {
    return new RefusalAuditLimit(clock, config.perAddress(), config.overall());
  }

  /** The defaults, on the system clock. */
  public static RefusalAuditLimit withDefaults() {
    return new RefusalAuditLimit(Clock.systemUTC(), DEFAULT_PER_ADDRESS, DEFAULT_OVERALL);
  }

  /**
   * Whether a refused request from {@code clientAddress} is to be recorded; when it is not, it is
   * counted.
   */
  public boolean admit(String clientAddress) {
    long now = clock.millis();
    Budget budget = addresses.get(clientAddress, a -> new Budget(perAddress, now));
    if (budget.take(now) && overall.take(now)) {
      return true;
    }
    notAudited.incrementAndGet();
    long since = notAuditedSinceLogged.incrementAndGet();
    long last = loggedAtMillis;
    if (now - last >= MINUTE.toMillis()) {
      synchronized (this) {
        if (loggedAtMillis == last) {
          loggedAtMillis = now;
          since = notAuditedSinceLogged.getAndSet(0);
          log.warn(
              "{} requests refused before authentication were not audited in the last {} s"
                  + " (over {} a minute from one client address or {} from all); {} in all",
              since,
              (now - last) / 1000,
              perAddress,
              overall.capacity,
              notAudited.get());
        }
      }
    }
    return false;
  }

  /** Records a minute from one client address at most. */
  public int perAddress() {
    return perAddress;
  }

  /** Records a minute from all addresses at most. */
  public int overall() {
    return overall.capacity;
  }

  /** Refused requests not recorded since the server started. */
  public long notAudited() {
    return notAudited.get();
  }

  /** A token bucket: {@code capacity} tokens, refilled at {@code capacity} a minute. */
  private static final class Budget {
    private final int capacity;
    private double tokens;
    private long lastMillis;

    Budget(int capacity, long nowMillis) {
      this.capacity = capacity;
      this.tokens = capacity;
      this.lastMillis = nowMillis;
    }

    synchronized boolean take(long nowMillis) {
      if (nowMillis > lastMillis) {
        tokens =
            Math.min(
                capacity,
                tokens + (nowMillis - lastMillis) * capacity / (double) MINUTE.toMillis());
        lastMillis = nowMillis;
      }
      if (tokens < 1) {
        return false;
      }
      tokens -= 1;
      return true;
    }
  }
}
