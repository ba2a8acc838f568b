package io.p11kms.server.audit;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.DigestException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The log's buffer for a batch of request lines, used under the log's lock: each line written as
 * UTF-8 straight into it with its break, hashed in place, and the batch written with one call. The
 * bytes are those of the line a map of its fields gives as JSON ({@code seq}, {@code type}, {@code
 * time} as {@link Instant#toString()}, the fields, {@code prev}) and its hash is {@link
 * AuditLines#sha256(String)} of that line. Reused from batch to batch; a record holds no plaintext
 * and no key material.
 */
final class RequestLines {
  private static final int INITIAL = 4096;
  private static final int HASH_LENGTH = 32;
  private static final HexFormat HEX = HexFormat.of();

  private static final byte[] SEQ = ascii("{\"seq\":");
  private static final byte[] TIME = ascii(",\"type\":\"request\",\"time\":\"");
  private static final byte[] FIELDS = ascii("\",");
  private static final byte[] PREV = ascii(",\"prev\":\"");
  private static final byte[] END = ascii("\"}");

  private final MessageDigest digest;
  private final byte[] hash = new byte[HASH_LENGTH];

  /** The hex SHA-256 of the last line appended, or the chain's head when none was. */
  private byte[] head = new byte[2 * HASH_LENGTH];

  private int headLength;
  private byte[] buf = new byte[INITIAL];
  private ByteBuffer view = ByteBuffer.wrap(buf);
  private int length;

  /**
   * @param digest a SHA-256 digest, used under the log's lock
   */
  RequestLines(MessageDigest digest) {
    this.digest = digest;
  }

  /** Empties the buffer; the next line's {@code prev} is {@code prev} (ASCII). */
  void begin(byte[] prev) {
    if (buf.length > RequestFields.KEPT) {
      buf = new byte[INITIAL];
      view = ByteBuffer.wrap(buf);
    }
    length = 0;
    if (head.length < prev.length) {
      head = new byte[prev.length];
    }
    System.arraycopy(prev, 0, head, 0, prev.length);
    headLength = prev.length;
  }

  /**
   * Appends the line of request record {@code seq} made at {@code time}, with {@code fields} (UTF-8
   * JSON members, {@link RequestFields}), and its break; its hash becomes the head.
   */
  void append(long seq, Instant time, byte[] fields, int fieldsLength) {
    ensure(SEQ.length + 20 + TIME.length + 40 + fieldsLength + PREV.length + headLength + 3);
    int start = length;
    put(SEQ);
    putAscii(Long.toString(seq));
    put(TIME);
    putAscii(time.toString());
    put(FIELDS);
    System.arraycopy(fields, 0, buf, length, fieldsLength);
    length += fieldsLength;
    put(PREV);
    System.arraycopy(head, 0, buf, length, headLength);
    length += headLength;
    put(END);
    digest.update(buf, start, length - start);
    try {
      digest.digest(hash, 0, HASH_LENGTH);
    } catch (DigestException e) {
      throw new IllegalStateException(e);
    }
    if (head.length < 2 * HASH_LENGTH) {
      head = new byte[2 * HASH_LENGTH];
    }
    for (int i = 0; i < HASH_LENGTH; i++) {
      head[2 * i] = (byte) HEX.toHighHexDigit(hash[i]);
      head[2 * i + 1] = (byte) HEX.toLowHexDigit(hash[i]);
    }
    headLength = 2 * HASH_LENGTH;
    buf[length++] = '\n';
  }

  /** The lines appended since {@link #begin}, each with its break. */
  ByteBuffer lines() {
    view.clear();
    view.limit(length);
    return view;
  }

  /** The hex SHA-256 of the last line appended (the next {@code prev}), as a new array. */
  byte[] head() {
    return Arrays.copyOf(head, headLength);
  }

  /** Copies the head into {@code into} when it has the head's length; returns whether it did. */
  boolean copyHead(byte[] into) {
    if (into.length != headLength) {
      return false;
    }
    System.arraycopy(head, 0, into, 0, headLength);
    return true;
  }

  private void ensure(int more) {
    if (buf.length - length < more) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, length + more));
      view = ByteBuffer.wrap(buf);
    }
  }

  private void put(byte[] ascii) {
    System.arraycopy(ascii, 0, buf, length, ascii.length);
    length += ascii.length;
  }

  /** Writes {@code s}, ASCII, without an array of its own. */
  private void putAscii(String s) {
    for (int i = 0; i < s.length(); i++) {
      buf[length++] = (byte) s.charAt(i);
    }
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
