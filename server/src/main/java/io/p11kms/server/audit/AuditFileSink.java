package io.p11kms.server.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Appends to a file; a line is written with one write call. An open file that was removed or
 * replaced (its directory deleted, the file moved away) still takes writes that nobody will read,
 * so every write first checks that the path still names the file this sink opened.
 */
final class AuditFileSink implements AuditSink {
  private static final byte[] NEWLINE = {'\n'};

  private final Path file;
  private final FileChannel channel;
  private final Object fileKey;

  AuditFileSink(Path file) throws IOException {
    this.file = file;
    this.channel =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
    this.fileKey = fileKey(file);
  }

  private static Object fileKey(Path file) throws IOException {
    return Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
        .fileKey();
  }

  @Override
  public void check() throws IOException {
    Object now;
    try {
      now = fileKey(file);
    } catch (NoSuchFileException e) {
      throw new IOException("the audit log file was removed", e);
    }
    if (fileKey != null && !fileKey.equals(now)) {
      throw new IOException("the audit log file was replaced");
    }
  }

  /** The line and its break in one gathering write (one system call on an appending file). */
  @Override
  public void write(byte[] line) throws IOException {
    ByteBuffer[] buffers = {ByteBuffer.wrap(line), ByteBuffer.wrap(NEWLINE)};
    while (buffers[1].hasRemaining()) {
      channel.write(buffers);
    }
  }

  /** The lines and their breaks in one write (one system call on an appending file). */
  @Override
  public void write(ByteBuffer lines) throws IOException {
    while (lines.hasRemaining()) {
      channel.write(lines);
    }
  }

  @Override
  public void flush() throws IOException {
    channel.force(false);
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
