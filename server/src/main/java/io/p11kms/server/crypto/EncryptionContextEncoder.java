package io.p11kms.server.crypto;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The canonical byte form of an encryption context, bound into the AES-GCM tag with the blob
 * header. See {@code docs/ciphertext-format.md}.
 *
 * <pre>
 * count (4, big-endian) | for each pair, sorted by key's UTF-8 bytes (unsigned):
 *   key length (4) | key (UTF-8) | value length (4) | value (UTF-8)
 * </pre>
 *
 * <p>Every string is length-prefixed, so {@code {"ab":"c"}} and {@code {"a":"bc"}} differ. Strings
 * that are not valid UTF-16 (unpaired surrogates) are rejected rather than replaced, since a
 * replacement character would let two different contexts encode alike.
 */
public final class EncryptionContextEncoder {
  private EncryptionContextEncoder() {}

  /** The canonical encoding; an empty or null map encodes as four zero bytes. */
  public static byte[] encode(Map<String, String> context) {
    if (context == null || context.isEmpty()) {
      return new byte[4];
    }
    List<byte[][]> pairs = new ArrayList<>(context.size());
    for (Map.Entry<String, String> e : context.entrySet()) {
      if (e.getKey() == null || e.getValue() == null) {
        throw new IllegalArgumentException("encryption context keys and values must not be null");
      }
      pairs.add(new byte[][] {utf8(e.getKey()), utf8(e.getValue())});
    }
    pairs.sort((a, b) -> Arrays.compareUnsigned(a[0], b[0]));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    writeInt(out, pairs.size());
    for (byte[][] pair : pairs) {
      writeInt(out, pair[0].length);
      out.writeBytes(pair[0]);
      writeInt(out, pair[1].length);
      out.writeBytes(pair[1]);
    }
    return out.toByteArray();
  }

  /** The AES-GCM additional authenticated data: {@code header || encode(context)}. */
  public static byte[] aad(byte[] header, Map<String, String> context) {
    if (header == null) {
      throw new IllegalArgumentException("header is required");
    }
    byte[] encoded = encode(context);
    byte[] aad = Arrays.copyOf(header, header.length + encoded.length);
    System.arraycopy(encoded, 0, aad, header.length, encoded.length);
    return aad;
  }

  private static byte[] utf8(String s) {
    CharsetEncoder encoder =
        StandardCharsets.UTF_8
            .newEncoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    try {
      ByteBuffer b = encoder.encode(CharBuffer.wrap(s));
      byte[] bytes = new byte[b.remaining()];
      b.get(bytes);
      return bytes;
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("encryption context is not valid Unicode text");
    }
  }

  private static void writeInt(ByteArrayOutputStream out, int v) {
    out.write(v >>> 24);
    out.write(v >>> 16);
    out.write(v >>> 8);
    out.write(v);
  }
}
