package io.p11kms.server.store;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Paging of listings. A marker is opaque to clients: base64url of a format byte and the position
 * after which the next page starts, the last sequence number returned (big-endian) or the last tag
 * key (UTF-8). A marker that this class did not write is refused as malformed.
 */
final class PageMarkers {
  /** The largest page a listing returns, as AWS KMS ListKeys. */
  static final int MAX_PAGE_SIZE = 1000;

  private static final byte MARKER_FORMAT = 1;
  private static final byte TAG_MARKER_FORMAT = 2;

  private PageMarkers() {}

  /**
   * @throws IllegalArgumentException if {@code limit} is not 1 to {@value #MAX_PAGE_SIZE}
   */
  static void checkLimit(int limit) {
    if (limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new IllegalArgumentException("limit must be 1-" + MAX_PAGE_SIZE + ", was " + limit);
    }
  }

  /** The sequence number a listing starts after: 0 for the first page. */
  static long after(Optional<String> marker) {
    return marker == null || marker.isEmpty() ? 0 : decodeMarker(marker.get());
  }

  /** One row of a listing. */
  @FunctionalInterface
  interface Row<T> {
    T read(ResultSet rs) throws SQLException;
  }

  /**
   * Runs a listing ordered by its {@code seq} column that asked for {@code limit + 1} rows: the
   * first {@code limit} are the page, and one more means a next page, which starts after the last
   * {@code seq} of this one.
   */
  static <T> Page<T> bySequence(PreparedStatement p, int limit, Row<T> row) throws SQLException {
    return collect(p, limit, row, rs -> rs.getLong("seq"), PageMarkers::encodeMarker);
  }

  /**
   * Runs a listing that asked for {@code limit + 1} rows: the first {@code limit} are the page, and
   * one more means a next page, whose marker is {@code marker} of the last row's {@code position}.
   */
  static <T, P> Page<T> collect(
      PreparedStatement p, int limit, Row<T> row, Row<P> position, Function<P, String> marker)
      throws SQLException {
    List<T> items = new ArrayList<>(limit);
    P last = null;
    boolean more = false;
    try (ResultSet rs = p.executeQuery()) {
      while (rs.next()) {
        if (items.size() == limit) {
          more = true;
          break;
        }
        last = position.read(rs);
        items.add(row.read(rs));
      }
    }
    return new Page<>(items, more ? Optional.of(marker.apply(last)) : Optional.empty());
  }

  static String encodeMarker(long seq) {
    ByteBuffer b = ByteBuffer.allocate(9).put(MARKER_FORMAT).putLong(seq);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
  }

  static long decodeMarker(String marker) {
    byte[] bytes = decode(marker);
    if (bytes.length != 9 || bytes[0] != MARKER_FORMAT) {
      throw malformed();
    }
    long seq = ByteBuffer.wrap(bytes, 1, 8).getLong();
    if (seq < 1 || !encodeMarker(seq).equals(marker)) {
      throw malformed();
    }
    return seq;
  }

  static String encodeTagMarker(String tagKey) {
    byte[] key = tagKey.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(1 + key.length).put(TAG_MARKER_FORMAT).put(key);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
  }

  static String decodeTagMarker(String marker) {
    byte[] bytes = decode(marker);
    if (bytes.length < 2 || bytes[0] != TAG_MARKER_FORMAT) {
      throw malformed();
    }
    String tagKey = new String(bytes, 1, bytes.length - 1, StandardCharsets.UTF_8);
    if (!encodeTagMarker(tagKey).equals(marker)) {
      throw malformed();
    }
    return tagKey;
  }

  private static byte[] decode(String marker) {
    try {
      return Base64.getUrlDecoder().decode(marker);
    } catch (IllegalArgumentException e) {
      throw malformed();
    }
  }

  private static IllegalArgumentException malformed() {
    return new IllegalArgumentException("marker is malformed");
  }
}
