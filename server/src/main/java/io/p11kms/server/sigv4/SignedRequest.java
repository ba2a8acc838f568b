package io.p11kms.server.sigv4;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An HTTP request as the verifier reads it, in plain values, whatever HTTP library received it: the
 * method, the path and query exactly as they came on the request line (still percent-encoded), the
 * headers (names in any case; a header sent several times keeps its values in order), and the
 * SHA-256 of the body. Build one with {@link #builder}.
 *
 * <p>HTTP/2 carries the host in the {@code :authority} pseudo-header: pass it as {@code host}.
 */
public final class SignedRequest {
  private final String method;
  private final String rawPath;
  private final String rawQuery;
  private final Map<String, List<String>> headers;
  private final String payloadSha256;

  private SignedRequest(Builder b) {
    this.method = b.method;
    this.rawPath = b.rawPath;
    this.rawQuery = b.rawQuery;
    // The builder's map is taken as it is: build() ends the builder, so nothing changes it after.
    this.headers = b.headers;
    this.payloadSha256 = b.payloadSha256;
  }

  /**
   * Starts a request.
   *
   * @param method the HTTP method, for example {@code POST}
   * @param rawPath the path of the request line, percent-encoded as received, without the query
   */
  public static Builder builder(String method, String rawPath) {
    return new Builder(method, rawPath);
  }

  public String method() {
    return method;
  }

  public String rawPath() {
    return rawPath;
  }

  /** The query as received (without the {@code ?}); empty when there is none. */
  public String rawQuery() {
    return rawQuery;
  }

  /** The values of header {@code name} (any case), in the order received; empty if absent. */
  public List<String> header(String name) {
    List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
    return values == null ? List.of() : values;
  }

  /** The first value of header {@code name}, or null. */
  public String firstHeader(String name) {
    List<String> values = header(name);
    return values.isEmpty() ? null : values.get(0);
  }

  /** The SHA-256 of the body, lower-case hex. */
  public String payloadSha256() {
    return payloadSha256;
  }

  /** Builds a {@link SignedRequest}. */
  public static final class Builder {
    private final String method;
    private final String rawPath;
    private String rawQuery = "";

    /** Lower-case name to its values, each list unmodifiable (one value: {@code List.of}). */
    private final Map<String, List<String>> headers = new HashMap<>(32);

    private String payloadSha256;
    private boolean built;

    private Builder(String method, String rawPath) {
      if (method == null || method.isEmpty() || rawPath == null) {
        throw new IllegalArgumentException("a request needs a method and a path");
      }
      this.method = method;
      this.rawPath = rawPath;
    }

    /** The query string as received, without the {@code ?}; null or empty for none. */
    public Builder rawQuery(String rawQuery) {
      this.rawQuery = rawQuery == null ? "" : rawQuery;
      return this;
    }

    /** Adds one value of a header (call again for a header sent several times). */
    public Builder header(String name, String value) {
      if (name == null || value == null) {
        throw new IllegalArgumentException("a header needs a name and a value");
      }
      requireOpen();
      String lower = name.toLowerCase(Locale.ROOT);
      List<String> earlier = headers.putIfAbsent(lower, List.of(value));
      if (earlier != null) {
        List<String> values = new ArrayList<>(earlier.size() + 1);
        values.addAll(earlier);
        values.add(value);
        headers.put(lower, Collections.unmodifiableList(values));
      }
      return this;
    }

    /** Adds every header of {@code all} (name to values). */
    public Builder headers(Map<String, ? extends List<String>> all) {
      all.forEach((name, values) -> values.forEach(v -> header(name, v)));
      return this;
    }

    /** The body; its SHA-256 is computed here. */
    public Builder body(byte[] body) {
      this.payloadSha256 = sha256Hex(body == null ? new byte[0] : body);
      return this;
    }

    /** The SHA-256 of the body, when the caller has already computed it (64 hex characters). */
    public Builder payloadSha256(String hex) {
      if (hex == null || hex.length() != 64 || !hex.chars().allMatch(Builder::isHex)) {
        throw new IllegalArgumentException("a payload hash is 64 hex characters");
      }
      this.payloadSha256 = hex.toLowerCase(Locale.ROOT);
      return this;
    }

    /** The request; the builder cannot be used after. */
    public SignedRequest build() {
      if (payloadSha256 == null) {
        throw new IllegalStateException("give the body or its SHA-256");
      }
      requireOpen();
      built = true;
      return new SignedRequest(this);
    }

    private void requireOpen() {
      if (built) {
        throw new IllegalStateException("the request is built already");
      }
    }

    private static boolean isHex(int c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }
  }

  static String sha256Hex(byte[] data) {
    return HexFormat.of().formatHex(sha256(data));
  }

  static String sha256Hex(String text) {
    return sha256Hex(text.getBytes(StandardCharsets.UTF_8));
  }

  static byte[] sha256(byte[] data) {
    return SHA256.get().digest(data);
  }

  /** One digest per thread: {@code getInstance} looks the provider up on every call. */
  private static final ThreadLocal<MessageDigest> SHA256 =
      ThreadLocal.withInitial(
          () -> {
            try {
              return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
              throw new IllegalStateException("the JDK has no SHA-256", e);
            }
          });
}
