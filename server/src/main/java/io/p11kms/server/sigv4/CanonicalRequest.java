package io.p11kms.server.sigv4;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The SigV4 canonical request of a {@link SignedRequest}, as the AWS SDKs build it for every
 * service but S3:
 *
 * <pre>
 * method \n canonical URI \n canonical query \n canonical headers \n signed headers \n payload hash
 * </pre>
 *
 * <ul>
 *   <li>canonical URI: the path as received, normalized ({@code .} and {@code ..} segments and
 *       repeated slashes removed), then URI-encoded once more, slashes kept ({@code %} becomes
 *       {@code %25}); {@code /} when empty
 *   <li>canonical query: each {@code name=value} decoded and encoded again with RFC 3986's
 *       unreserved characters only, sorted by name, then value
 *   <li>canonical headers: the signed headers only, in the order SignedHeaders names them, each
 *       {@code name:value} with the values of a repeated header joined by commas, each trimmed and
 *       inner runs of spaces made one
 * </ul>
 */
final class CanonicalRequest {
  private CanonicalRequest() {}

  /**
   * The canonical request, or null when a signed header is absent from the request (no signature
   * over it can match).
   */
  static String of(SignedRequest request, AuthorizationHeader authorization) {
    StringBuilder out = new StringBuilder(512);
    out.append(request.method()).append('\n');
    out.append(uri(request.rawPath())).append('\n');
    out.append(query(request.rawQuery())).append('\n');
    for (String name : authorization.signedHeaders()) {
      List<String> values = request.header(name);
      if (values.isEmpty()) {
        return null;
      }
      out.append(name).append(':');
      for (int i = 0; i < values.size(); i++) {
        if (i > 0) {
          out.append(',');
        }
        appendTrimmed(out, values.get(i));
      }
      out.append('\n');
    }
    out.append('\n');
    out.append(authorization.signedHeadersText()).append('\n');
    out.append(request.payloadSha256());
    return out.toString();
  }

  static String uri(String rawPath) {
    return plain(rawPath) ? rawPath : normalized(rawPath);
  }

  /** The canonical URI by normalizing and encoding the path, whatever it is. */
  static String normalized(String rawPath) {
    String path = rawPath;
    if (path.startsWith("/")) {
      try {
        path = new URI("http://h" + rawPath).normalize().getRawPath();
      } catch (URISyntaxException e) {
        // Not a valid URI path: sign it as it came, encoded once more.
      }
    }
    return path == null || path.isEmpty() ? "/" : encode(path, true);
  }

  /**
   * Whether {@code rawPath} is already its canonical URI: it starts with '/', has only unreserved
   * characters and single slashes, and no '.' segment (an API's path, such as {@code /} or {@code
   * /kms/xks/v1/keys/k-1/encrypt}), so that normalizing and encoding it would change nothing.
   */
  static boolean plain(String rawPath) {
    if (rawPath.isEmpty() || rawPath.charAt(0) != '/') {
      return false;
    }
    char previous = 0;
    for (int i = 0; i < rawPath.length(); i++) {
      char c = rawPath.charAt(i);
      boolean unreserved =
          (c >= 'A' && c <= 'Z')
              || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9')
              || c == '-'
              || c == '_'
              || c == '~';
      if (c == '/' ? previous == '/' : c == '.' ? previous == '/' : !unreserved) {
        return false;
      }
      previous = c;
    }
    return true;
  }

  static String query(String rawQuery) {
    if (rawQuery.isEmpty()) {
      return "";
    }
    List<String[]> pairs = new ArrayList<>();
    for (String part : rawQuery.split("&")) {
      if (part.isEmpty()) {
        continue;
      }
      int eq = part.indexOf('=');
      String name = eq < 0 ? part : part.substring(0, eq);
      String value = eq < 0 ? "" : part.substring(eq + 1);
      pairs.add(new String[] {encode(decode(name), false), encode(decode(value), false)});
    }
    pairs.sort(Comparator.<String[], String>comparing(p -> p[0]).thenComparing(p -> p[1]));
    StringBuilder out = new StringBuilder();
    for (String[] pair : pairs) {
      if (out.length() > 0) {
        out.append('&');
      }
      out.append(pair[0]).append('=').append(pair[1]);
    }
    return out.toString();
  }

  /** Percent-encodes every byte of UTF-8 but RFC 3986's unreserved characters (and '/'). */
  static String encode(String text, boolean keepSlash) {
    StringBuilder out = new StringBuilder(text.length() + 16);
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if ((c >= 'A' && c <= 'Z')
          || (c >= 'a' && c <= 'z')
          || (c >= '0' && c <= '9')
          || c == '-'
          || c == '_'
          || c == '.'
          || c == '~'
          || (keepSlash && c == '/')) {
        out.append((char) c);
      } else {
        out.append('%').append(HEX[c >> 4]).append(HEX[c & 0xf]);
      }
    }
    return out.toString();
  }

  /** Percent-decodes {@code text} as UTF-8; a malformed escape stays as it is. */
  static String decode(String text) {
    if (text.indexOf('%') < 0) {
      return text;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(text.length());
    byte[] in = text.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < in.length; i++) {
      int hi = i + 2 < in.length ? Character.digit(in[i + 1], 16) : -1;
      int lo = i + 2 < in.length ? Character.digit(in[i + 2], 16) : -1;
      if (in[i] == '%' && hi >= 0 && lo >= 0) {
        bytes.write((hi << 4) | lo);
        i += 2;
      } else {
        bytes.write(in[i]);
      }
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  private static void appendTrimmed(StringBuilder out, String value) {
    if (trimmed(value)) {
      out.append(value);
      return;
    }
    String trimmed = value.strip();
    boolean space = false;
    for (int i = 0; i < trimmed.length(); i++) {
      char c = trimmed.charAt(i);
      if (c == ' ') {
        if (!space) {
          out.append(' ');
        }
        space = true;
      } else {
        out.append(c);
        space = false;
      }
    }
  }

  /**
   * Whether {@code value} is its own trimmed form already (every value an SDK sends): no space at
   * either end, no two spaces in a row, and only printable ASCII and single spaces, so that {@link
   * String#strip} would change nothing.
   */
  static boolean trimmed(String value) {
    int n = value.length();
    if (n == 0 || value.charAt(0) == ' ' || value.charAt(n - 1) == ' ') {
      return n == 0;
    }
    char previous = 0;
    for (int i = 0; i < n; i++) {
      char c = value.charAt(i);
      if (c < ' ' || c > '~' || (c == ' ' && previous == ' ')) {
        return false;
      }
      previous = c;
    }
    return true;
  }

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();
}
