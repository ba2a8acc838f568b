package io.p11kms.server.config;

import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Key ARNs of this service: {@code arn:<partition>:kms:<region>:<account>:key/<key id>}. Only ARNs
 * of this partition, region and account parse; an ARN of another account names no key here.
 */
public final class KeyArns {
  private static final Pattern MULTI_REGION_KEY_ID = Pattern.compile("mrk-[0-9a-f]{32}");
  private static final String MULTI_REGION_PREFIX = "mrk-";

  /**
   * The UUID version that marks a multi-Region key's id: RFC 9562's version 8, free for a format of
   * one's own. Its text is {@code mrk-} and the 32 hex digits, as AWS KMS spells such ids; in a
   * ciphertext and in the store it is the UUID, as any key id.
   */
  private static final int MULTI_REGION_VERSION = 8;

  private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

  private final String partition;
  private final String region;
  private final String account;
  private final String keyPrefix;
  private final String aliasPrefix;
  private final Pattern anyAccount;

  public static final String DEFAULT_PARTITION = "aws";
  public static final String DEFAULT_REGION = "local-1";
  public static final String DEFAULT_ACCOUNT = "000000000000";

  private static final Pattern PARTITION = Pattern.compile("[a-z][a-z0-9-]{0,31}");
  private static final Pattern REGION = Pattern.compile("[a-z0-9][a-z0-9-]{0,31}");
  private static final Pattern ACCOUNT = Pattern.compile("[0-9]{12}");

  /** The ARNs of the {@code arn.*} keys ({@code arn.partition}, {@code arn.region}, ...). */
  public KeyArns(String partition, String region, String account) {
    this.partition = checkPartition(partition);
    this.region = checkRegion(region);
    this.account = checkAccount(account);
    String base = "arn:" + partition + ":kms:" + region + ":" + account + ":";
    this.keyPrefix = base + "key/";
    this.aliasPrefix = base + "alias/";
    this.anyAccount =
        Pattern.compile(
            "^"
                + Pattern.quote("arn:" + partition + ":kms:" + region + ":")
                + "([0-9]{12}):(key|alias)/(.+)$");
  }

  /** A key's ARN read back: its account (12 digits) and key id. */
  public record KeyArn(String account, UUID keyId) {}

  /** An alias's ARN read back: its account (12 digits) and name ({@code alias/...}). */
  public record AliasArn(String account, String aliasName) {}

  /** {@code arn:<partition>:kms:<region>:<account>:key/<key id>} of a key of {@code account}. */
  public String keyArn(String account, UUID keyId) {
    if (keyId == null) {
      throw new IllegalArgumentException("key id is required");
    }
    return keyArnIn(region, account, keyId);
  }

  /** The ARN of a key of {@code account} in {@code inRegion} (a multi-Region key's replica). */
  public String keyArnIn(String inRegion, String account, UUID keyId) {
    if (keyId == null) {
      throw new IllegalArgumentException("key id is required");
    }
    return "arn:"
        + partition
        + ":kms:"
        + inRegion
        + ":"
        + account(account)
        + ":key/"
        + keyIdText(keyId);
  }

  /** A new multi-Region key's id: random, marked as one ({@link #isMultiRegion}). */
  public static UUID newMultiRegionKeyId() {
    byte[] b = new byte[16];
    RANDOM.nextBytes(b);
    b[6] = (byte) ((b[6] & 0x0f) | (MULTI_REGION_VERSION << 4));
    b[8] = (byte) ((b[8] & 0x3f) | 0x80);
    java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(b);
    return new UUID(buffer.getLong(), buffer.getLong());
  }

  /** Whether {@code keyId} is a multi-Region key's. */
  public static boolean isMultiRegion(UUID keyId) {
    return keyId.variant() == 2 && keyId.version() == MULTI_REGION_VERSION;
  }

  /** A key id as the API spells it: the UUID, or {@code mrk-} and 32 hex for a multi-Region key. */
  public static String keyIdText(UUID keyId) {
    return isMultiRegion(keyId)
        ? MULTI_REGION_PREFIX + keyId.toString().replace("-", "")
        : keyId.toString();
  }

  /** The ARN of the alias {@code aliasName} (with or without {@code alias/}) of {@code account}. */
  public String aliasArn(String account, String aliasName) {
    if (aliasName == null || aliasName.isEmpty()) {
      throw new IllegalArgumentException("alias name is required");
    }
    return "arn:"
        + partition
        + ":kms:"
        + region
        + ":"
        + account(account)
        + ":alias/"
        + (aliasName.startsWith("alias/") ? aliasName.substring(6) : aliasName);
  }

  /** A key ARN of this partition and region, of any account; empty for anything else. */
  public Optional<KeyArn> parseAnyKeyArn(String arn) {
    if (arn == null) {
      return Optional.empty();
    }
    var m = anyAccount.matcher(arn);
    if (!m.matches() || !m.group(2).equals("key")) {
      return Optional.empty();
    }
    return parseKeyId(m.group(3)).map(id -> new KeyArn(m.group(1), id));
  }

  /** An alias ARN of this partition and region, of any account; empty for anything else. */
  public Optional<AliasArn> parseAnyAliasArn(String arn) {
    if (arn == null) {
      return Optional.empty();
    }
    var m = anyAccount.matcher(arn);
    if (!m.matches() || !m.group(2).equals("alias")) {
      return Optional.empty();
    }
    return Optional.of(new AliasArn(m.group(1), "alias/" + m.group(3)));
  }

  /**
   * The account id a store holds as {@code stored}: the store names the default account (this one,
   * {@code arn.account}) by the empty string, so that a store made before accounts existed keeps
   * its keys in it.
   */
  public String account(String stored) {
    return stored == null || stored.isEmpty() ? account : stored;
  }

  /** How the store names {@code account}: the empty string for the default account. */
  public String stored(String account) {
    return account == null || account.equals(this.account) ? "" : account;
  }

  public String partition() {
    return partition;
  }

  public String region() {
    return region;
  }

  public String account() {
    return account;
  }

  /** {@code arn:<partition>:kms:<region>:<account>:key/<key id>}. */
  public String keyArn(UUID keyId) {
    if (keyId == null) {
      throw new IllegalArgumentException("key id is required");
    }
    return keyPrefix + keyIdText(keyId);
  }

  /**
   * The key id in a key ARN of this partition, region and account; empty for anything else,
   * including a malformed key id.
   */
  public Optional<UUID> parseKeyArn(String arn) {
    if (arn == null || !arn.startsWith(keyPrefix)) {
      return Optional.empty();
    }
    return parseKeyId(arn.substring(keyPrefix.length()));
  }

  /**
   * {@code arn:<partition>:kms:<region>:<account>:alias/<name>} for an alias name given with or
   * without its {@code alias/} prefix.
   */
  public String aliasArn(String aliasName) {
    if (aliasName == null || aliasName.isEmpty()) {
      throw new IllegalArgumentException("alias name is required");
    }
    return aliasPrefix + (aliasName.startsWith("alias/") ? aliasName.substring(6) : aliasName);
  }

  /**
   * The alias name ({@code alias/<name>}) in an alias ARN of this partition, region and account;
   * empty for anything else.
   */
  public Optional<String> parseAliasArn(String arn) {
    if (arn == null || !arn.startsWith(aliasPrefix) || arn.length() == aliasPrefix.length()) {
      return Optional.empty();
    }
    return Optional.of("alias/" + arn.substring(aliasPrefix.length()));
  }

  /**
   * A key id in its canonical 36-character form (either case), or a multi-Region key's {@code mrk-}
   * id. Stricter than {@link UUID#fromString}, which also takes {@code 1-2-3-4-5}.
   */
  public static Optional<UUID> parseKeyId(String s) {
    if (s != null
        && s.startsWith(MULTI_REGION_PREFIX)
        && MULTI_REGION_KEY_ID.matcher(s).matches()) {
      String hex = s.substring(MULTI_REGION_PREFIX.length());
      UUID id =
          new UUID(
              Long.parseUnsignedLong(hex.substring(0, 16), 16),
              Long.parseUnsignedLong(hex.substring(16), 16));
      return isMultiRegion(id) ? Optional.of(id) : Optional.empty();
    }
    if (s == null || !isCanonicalUuid(s)) {
      return Optional.empty();
    }
    UUID id = UUID.fromString(s);
    // A multi-Region key is named only by its mrk- id.
    return isMultiRegion(id) ? Optional.empty() : Optional.of(id);
  }

  /**
   * Whether {@code s} is 8-4-4-4-12 ASCII hex digits (either case) joined by hyphens. Checked by
   * hand: every request's key id comes through here, and two regular expressions per call were a
   * tenth of the access check's CPU.
   */
  private static boolean isCanonicalUuid(String s) {
    if (s.length() != 36) {
      return false;
    }
    for (int i = 0; i < 36; i++) {
      char c = s.charAt(i);
      boolean ok =
          i == 8 || i == 13 || i == 18 || i == 23
              ? c == '-'
              : (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return keyPrefix + "<key id>";
  }

  static KeyArns from(ConfigProperties p) {
    return new KeyArns(
        p.get(ServerConfig.ARN_PARTITION, DEFAULT_PARTITION),
        p.get(ServerConfig.ARN_REGION, DEFAULT_REGION),
        p.get(ServerConfig.ARN_ACCOUNT, DEFAULT_ACCOUNT));
  }

  String redacted() {
    return ServerConfig.ARN_PARTITION
        + "="
        + partition
        + ", "
        + ServerConfig.ARN_REGION
        + "="
        + region
        + ", "
        + ServerConfig.ARN_ACCOUNT
        + "="
        + account;
  }

  private static String checkPartition(String partition) {
    if (partition == null || !PARTITION.matcher(partition).matches()) {
      throw new ConfigException(
          ServerConfig.ARN_PARTITION
              + " must be lower-case letters, digits and '-' (like aws), was "
              + partition);
    }
    return partition;
  }

  private static String checkRegion(String region) {
    if (region == null || !REGION.matcher(region).matches()) {
      throw new ConfigException(
          ServerConfig.ARN_REGION
              + " must be lower-case letters, digits and '-' (like local-1), was "
              + region);
    }
    return region;
  }

  private static String checkAccount(String account) {
    if (account == null || !ACCOUNT.matcher(account).matches()) {
      throw new ConfigException(ServerConfig.ARN_ACCOUNT + " must be 12 digits, was " + account);
    }
    return account;
  }
}
