package io.p11kms.server.config;

import java.util.Set;

/**
 * How many requests refused before authentication (no signature, a malformed or wrong one, an
 * unknown access key), on any front end, the audit log records a minute: up to {@code perAddress}
 * from one client address and {@code overall} from all addresses together. The rest are refused all
 * the same, counted in a metric and not recorded. From {@code audit.refused.*}.
 *
 * @param perAddress records a minute from one client address, 1 to {@code overall}
 * @param overall records a minute from all addresses, 1 to {@value #MAX}
 */
public record RefusalAuditConfig(int perAddress, int overall) {
  public static final String PER_ADDRESS = "audit.refused.per.address.per.minute";
  public static final String OVERALL = "audit.refused.per.minute";

  /** Every key this class reads. */
  public static final Set<String> KEYS = Set.of(PER_ADDRESS, OVERALL);

  public static final int DEFAULT_PER_ADDRESS = 60;
  public static final int DEFAULT_OVERALL = 1200;

  /** The most records a minute either bound may allow. */
  public static final int MAX = 1_000_000;

  /** 60 a minute from one address, 1,200 from all. */
  public static final RefusalAuditConfig DEFAULTS =
      new RefusalAuditConfig(DEFAULT_PER_ADDRESS, DEFAULT_OVERALL);

  public RefusalAuditConfig {
    if (overall < 1 || overall > MAX) {
      throw new ConfigException(OVERALL + " must be 1-" + MAX + ", was " + overall);
    }
    if (perAddress < 1 || perAddress > overall) {
      throw new ConfigException(
          PER_ADDRESS + " must be 1 to " + OVERALL + " (" + overall + "), was " + perAddress);
    }
  }

  /** Reads the keys of this class; an absent or blank one takes its default. */
  public static RefusalAuditConfig from(ConfigProperties p) {
    return new RefusalAuditConfig(
        p.getInt(PER_ADDRESS, DEFAULT_PER_ADDRESS), p.getInt(OVERALL, DEFAULT_OVERALL));
  }
}
