package io.p11kms.server.audit;

import java.io.IOException;
import java.util.List;

/** Where the audit log's lines go: its file ({@link AuditFileSink}), or a test's stand-in. */
public interface AuditSink extends AutoCloseable {
  /** Appends one line: {@code line} is its UTF-8 encoding, without the line break. */
  void write(byte[] line) throws IOException;

  /**
   * Appends {@code lines} in their order, as {@link #write(byte[])} each; the file's sink writes
   * them with one call.
   */
  default void write(List<byte[]> lines) throws IOException {
    for (byte[] line : lines) {
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
      public void flush() {}

      @Override
      public void close() {}
    };
  }
}
