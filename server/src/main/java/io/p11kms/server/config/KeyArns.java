package io.p11kms.server.config;

import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Key ARNs of this service: {@code arn:<partition>:kms:<region>:<account>:key/<key id>}. Only ARNs
 * of this partition, region and account parse; an ARN of another account names no key here.
 */
public final class KeyArns {
  private static final Pattern KEY_ID =
      Pattern.compile(
          "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

  private final String partition;
  private final String region;
  private final String account;
  private final String keyPrefix;
  private final String aliasPrefix;

  public KeyArns(String partition, String region, String account) {
    this.partition = ServerConfig.checkArnPartition(partition);
    this.region = ServerConfig.checkArnRegion(region);
    this.account = ServerConfig.checkArnAccount(account);
    String base = "arn:" + partition + ":kms:" + region + ":" + account + ":";
    this.keyPrefix = base + "key/";
    this.aliasPrefix = base + "alias/";
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
    return keyPrefix + keyId;
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
   * A key id in its canonical 36-character form (either case). Stricter than {@link
   * UUID#fromString}, which also takes {@code 1-2-3-4-5}.
   */
  public static Optional<UUID> parseKeyId(String s) {
    if (s == null || !KEY_ID.matcher(s).matches()) {
      return Optional.empty();
    }
    return Optional.of(UUID.fromString(s));
  }

  @Override
  public String toString() {
    return keyPrefix + "<key id>";
  }
}
