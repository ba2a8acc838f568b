package io.p11kms.server.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * The last non-blank line of a file, read backwards from its end. The audit log only grows (a busy
 * server writes gigabytes), so reading it whole to continue its chain would not fit the heap at
 * start-up.
 */
final class LastLine {
  private static final int CHUNK = 64 * 1024;

  private LastLine() {}

  static Optional<String> of(Path file) throws IOException {
    return of(file, CHUNK);
  }

  /** As {@link #of(Path)}, reading {@code chunk} bytes at a time (tests use small chunks). */
  static Optional<String> of(Path file, int chunk) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long position = channel.size();
      byte[] tail = new byte[0];
      while (true) {
        int end = contentEnd(tail);
        if (end > 0) {
          int start = lastNewlineBefore(tail, end) + 1;
          // A line is whole once the newline before it is in view, or the file's start is.
          if (start > 0 || position == 0) {
            return Optional.of(new String(tail, start, end - start, StandardCharsets.UTF_8));
          }
        } else if (position == 0) {
          return Optional.empty();
        }
        int length = (int) Math.min(chunk, position);
        position -= length;
        ByteBuffer read = ByteBuffer.allocate(length + tail.length);
        while (read.position() < length) {
          if (channel.read(read.limit(length), position + read.position()) < 0) {
            throw new IOException("the file shrank while its last line was read");
          }
        }
        read.limit(length + tail.length).put(tail);
        tail = read.array();
      }
    }
  }

  /** The index after the last byte that is not whitespace, or 0 when there is none. */
  private static int contentEnd(byte[] bytes) {
    for (int i = bytes.length; i > 0; i--) {
      byte b = bytes[i - 1];
      if (b != '\n' && b != '\r' && b != ' ' && b != '\t') {
        return i;
      }
    }
    return 0;
  }

  private static int lastNewlineBefore(byte[] bytes, int end) {
    for (int i = end - 1; i >= 0; i--) {
      if (bytes[i] == '\n') {
        return i;
      }
    }
    return -1;
  }
}
