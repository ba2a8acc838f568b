package io.p11kms.server.audit;

import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The head of the audit log as last anchored: a checkpoint's sequence number and the SHA-256 of its
 * line.
 *
 * @param seq the checkpoint's sequence number, at least 1
 * @param hash the SHA-256 of the checkpoint's line, 64 lower-case hex digits
 */
public record AuditHead(long seq, String hash) {
  private static final Pattern HASH = Pattern.compile("[0-9a-f]{64}");
  private static final Pattern ENCODED =
      Pattern.compile("p11kms-audit-anchor 1 seq=([1-9][0-9]{0,18}) hash=([0-9a-f]{64})");

  public AuditHead {
    if (seq < 1 || hash == null || !HASH.matcher(hash).matches()) {
      throw new IllegalArgumentException("an audit head is a sequence number and a SHA-256");
    }
  }

  /** The bytes kept in the token. */
  byte[] encode() {
    return ("p11kms-audit-anchor 1 seq=" + seq + " hash=" + hash).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * The head {@code bytes} hold.
   *
   * @throws AuditException when they are not what {@link #encode} writes
   */
  static AuditHead decode(byte[] bytes) {
    Matcher m = ENCODED.matcher(new String(bytes, StandardCharsets.US_ASCII));
    if (!m.matches()) {
      throw new AuditException("the audit anchor on the token is not one p11kms wrote", null);
    }
    try {
      return new AuditHead(Long.parseLong(m.group(1)), m.group(2));
    } catch (NumberFormatException e) {
      throw new AuditException("the audit anchor on the token is not one p11kms wrote", e);
    }
  }

  @Override
  public String toString() {
    return "checkpoint " + seq + " (sha256 " + hash.substring(0, 12) + "...)";
  }
}
