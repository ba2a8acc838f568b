package io.p11kms.server.audit;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Where the audit log's lines go: its file ({@link AuditFileSink}), or a test's stand-in. */
public interface AuditSink extends AutoCloseable {
  /** Appends one line: {@code line} is its UTF-8 encoding, without the line break. */
  void write(byte[] line) throws IOException;

  /**
   * Appends {@code lines}: UTF-8 lines from the buffer's position to its limit, each ending in its
   * line break, in their order, as {@link #write(byte[])} each; the file's sink writes them with
   * one call. The buffer is the caller's again once this returns.
   */
  default void write(ByteBuffer lines) throws IOException {
    while (lines.hasRemaining()) {
      int end = lines.position();
      while (lines.get(end) != '\n') {
        end++;
      }
      byte[] line = new byte[end - lines.position()];
      lines.get(line);
      lines.get();
      write(line);
    }
  }

  /**
   * Throws when a line written now would be lost (the file was removed or replaced). Called without
   * the log's lock, from any thread.
   */
  default void check() throws IOException {}

  /**
   * Makes every line written so far durable. Called without the log's lock: lines may be written
   * meanwhile.
   */
  void flush() throws IOException;

  @Override
  void close() throws IOException;

  /**
   * A sink that keeps nothing, for a server that is told explicitly to keep no audit trail (tests
   * of other things); every request still passes through the audit step.
   */
  static AuditSink discarding() {
    return new AuditSink() {
      @Override
      public void write(byte[] line) {}

      @Override
      public void write(ByteBuffer lines) {}

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
  }
}
