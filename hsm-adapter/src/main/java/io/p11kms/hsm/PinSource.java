package io.p11kms.hsm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Where a token PIN comes from: a file or an environment variable, never the command line. The PIN
 * is read when needed and handed out as a {@code char[]} the caller wipes; {@link #toString()}
 * names the source, never the PIN.
 */
public final class PinSource {
  private final Path file;
  private final String environmentVariable;

  private PinSource(Path file, String environmentVariable) {
    this.file = file;
    this.environmentVariable = environmentVariable;
  }

  /** A PIN kept in a file; a trailing newline is ignored. */
  public static PinSource fromFile(Path file) {
    if (file == null) {
      throw new IllegalArgumentException("PIN file path is required");
    }
    return new PinSource(file, null);
  }

  /** A PIN kept in an environment variable. */
  public static PinSource fromEnvironment(String variable) {
    if (variable == null || variable.isBlank()) {
      throw new IllegalArgumentException("PIN environment variable name is required");
    }
    return new PinSource(null, variable);
  }

  /** Reads the PIN. The caller owns the array and should wipe it after use. */
  public char[] read() {
    if (file != null) {
      return readFile();
    }
    String value = System.getenv(environmentVariable);
    if (value == null || value.isEmpty()) {
      throw new HsmException("PIN environment variable " + environmentVariable + " is not set");
    }
    return value.toCharArray();
  }

  private char[] readFile() {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new HsmException("cannot read PIN file " + file + ": " + e.getClass().getSimpleName());
    }
    try {
      int length = bytes.length;
      while (length > 0 && (bytes[length - 1] == '\n' || bytes[length - 1] == '\r')) {
        length--;
      }
      if (length == 0) {
        throw new HsmException("PIN file " + file + " is empty");
      }
      CharBuffer chars = StandardCharsets.UTF_8.decode(ByteBuffer.wrap(bytes, 0, length));
      char[] pin = Arrays.copyOfRange(chars.array(), chars.position(), chars.limit());
      Arrays.fill(chars.array(), '\0');
      return pin;
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }

  @Override
  public String toString() {
    return file != null ? "file:" + file : "env:" + environmentVariable;
  }
}
