package io.p11kms.server.cli;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * The header of an envelope-encrypted file ({@code docs/file-envelope-format.md}): magic and
 * version, chunk size, a random nonce prefix, the encryption context, and the data key as encrypted
 * by the service. The header's bytes are the AAD of every chunk.
 */
record EnvelopeFormat(
    int chunkSize, byte[] noncePrefix, Map<String, String> context, byte[] wrappedKey) {
  static final byte[] MAGIC = {'P', '1', '1', 'K', 'E', 'N', 'V'};
  static final int VERSION = 1;
  static final int NONCE_PREFIX_BYTES = 7;
  static final int TAG_BYTES = 16;
  static final int MIN_CHUNK = 1024;
  static final int MAX_CHUNK = 16 * 1024 * 1024;
  static final int MAX_WRAPPED_KEY = 8192;

  EnvelopeFormat {
    context = new TreeMap<>(context);
  }

  byte[] encode() {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      DataOutputStream out = new DataOutputStream(bytes);
      out.write(MAGIC);
      out.writeByte(VERSION);
      out.writeInt(chunkSize);
      out.write(noncePrefix);
      out.writeShort(context.size());
      for (var e : context.entrySet()) {
        writeString(out, e.getKey());
        writeString(out, e.getValue());
      }
      out.writeShort(wrappedKey.length);
      out.write(wrappedKey);
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void writeString(DataOutputStream out, String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    if (b.length > 65535) {
      throw new CliException("encryption context entries must be under 64 KiB");
    }
    out.writeShort(b.length);
    out.write(b);
  }

  /** Reads a header; returns it with the exact bytes read (the chunks' AAD). */
  static Read read(InputStream in) throws IOException {
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    DataInputStream data =
        new DataInputStream(
            new InputStream() {
              @Override
              public int read() throws IOException {
                int b = in.read();
                if (b >= 0) {
                  raw.write(b);
                }
                return b;
              }
            });
    try {
      byte[] magic = new byte[MAGIC.length];
      data.readFully(magic);
      if (!java.util.Arrays.equals(magic, MAGIC)) {
        throw new CliException("not a p11kms encrypted file");
      }
      int version = data.readUnsignedByte();
      if (version != VERSION) {
        throw new CliException("unsupported file version " + version);
      }
      int chunkSize = data.readInt();
      if (chunkSize < MIN_CHUNK || chunkSize > MAX_CHUNK) {
        throw new CliException("corrupt header: chunk size " + chunkSize);
      }
      byte[] prefix = new byte[NONCE_PREFIX_BYTES];
      data.readFully(prefix);
      int pairs = data.readUnsignedShort();
      Map<String, String> context = new TreeMap<>();
      for (int i = 0; i < pairs; i++) {
        context.put(readString(data), readString(data));
      }
      int keyLength = data.readUnsignedShort();
      if (keyLength == 0 || keyLength > MAX_WRAPPED_KEY) {
        throw new CliException("corrupt header: wrapped key length " + keyLength);
      }
      byte[] wrapped = new byte[keyLength];
      data.readFully(wrapped);
      return new Read(new EnvelopeFormat(chunkSize, prefix, context, wrapped), raw.toByteArray());
    } catch (EOFException e) {
      throw new CliException("truncated header: not a complete p11kms encrypted file");
    }
  }

  private static String readString(DataInputStream in) throws IOException {
    byte[] b = new byte[in.readUnsignedShort()];
    in.readFully(b);
    return new String(b, StandardCharsets.UTF_8);
  }

  /** The 96-bit GCM nonce of chunk {@code index}: prefix, 32-bit counter, last-chunk flag. */
  byte[] nonce(long index, boolean last) {
    if (index > 0xFFFFFFFFL) {
      throw new CliException("file too large for one envelope");
    }
    return ByteBuffer.allocate(12)
        .put(noncePrefix)
        .putInt((int) index)
        .put((byte) (last ? 1 : 0))
        .array();
  }

  record Read(EnvelopeFormat header, byte[] bytes) {}
}
