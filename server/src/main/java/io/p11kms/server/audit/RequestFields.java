package io.p11kms.server.audit;

import java.io.CharArrayWriter;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * A thread's buffers for the fields of its request's line ({@link AuditLines#requestFields}), as
 * UTF-8 bytes: the same bytes as {@code String.getBytes(UTF_8)} of the JSON members (a lone
 * surrogate becomes {@code ?}). A thread's record is written before its {@link AuditLog#append}
 * returns, so the next record of the same thread reuses them; a record holds no plaintext and no
 * key material. Buffers that grew past {@link #KEPT} bytes for a large record are let go after it.
 */
final class RequestFields {
  private static final int INITIAL = 1024;
  static final int KEPT = 16 * 1024;

  private static final ThreadLocal<RequestFields> THREADS =
      ThreadLocal.withInitial(RequestFields::new);

  /** A writer whose characters are read in place. */
  private static final class Chars extends CharArrayWriter {
    Chars() {
      super(INITIAL);
    }

    char[] array() {
      return buf;
    }

    int length() {
      return count;
    }

    void shrink() {
      if (buf.length > KEPT) {
        buf = new char[INITIAL];
      }
    }
  }

  private final Chars chars = new Chars();
  private final CharsetEncoder utf8 =
      StandardCharsets.UTF_8
          .newEncoder()
          .onMalformedInput(CodingErrorAction.REPLACE)
          .onUnmappableCharacter(CodingErrorAction.REPLACE);
  private CharBuffer charView = CharBuffer.wrap(chars.array());
  private byte[] bytes = new byte[INITIAL];
  private ByteBuffer byteView = ByteBuffer.wrap(bytes);

  private RequestFields() {}

  /** This thread's buffers. */
  static RequestFields ofThisThread() {
    return THREADS.get();
  }

  /**
   * Encodes the fields of {@code e} into this thread's byte buffer; {@link #bytes()} and {@link
   * #length()} hold them until the next call on this thread.
   */
  void encode(AuditEntry e) {
    chars.reset();
    AuditLines.requestFields(e, chars);
    if (charView.array() != chars.array()) {
      charView = CharBuffer.wrap(chars.array());
    }
    // The members without the object's braces.
    charView.clear();
    charView.limit(chars.length() - 1);
    charView.position(1);
    int most = charView.remaining() * 3;
    if (bytes.length < most) {
      bytes = new byte[Math.max(most, 2 * bytes.length)];
      byteView = ByteBuffer.wrap(bytes);
    }
    byteView.clear();
    utf8.reset();
    CoderResult result = utf8.encode(charView, byteView, true);
    if (!result.isUnderflow() || !(result = utf8.flush(byteView)).isUnderflow()) {
      throw new AuditException("cannot encode an audit record", null);
    }
  }

  /** The buffer holding the last fields encoded. */
  byte[] bytes() {
    return bytes;
  }

  /** Their length in bytes. */
  int length() {
    return byteView.position();
  }

  /** Lets go of buffers a large record made grow; called once the record is written. */
  void release() {
    chars.shrink();
    if (bytes.length > KEPT) {
      bytes = new byte[INITIAL];
      byteView = ByteBuffer.wrap(bytes);
    }
  }
}
