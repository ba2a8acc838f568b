package io.p11kms.server.http;

import java.util.Locale;

/**
 * A request line's target split into raw path and raw query, as sent; null for one this server does
 * not take: not a path (origin form, or absolute form whose path is taken), or an ambiguous one,
 * whose meaning a decoding step could change ({@code %2F}, {@code %5C}, a backslash, {@code %00}, a
 * {@code .} or {@code ..} segment, plain or encoded, or a malformed escape).
 */
record RequestTarget(String rawPath, String rawQuery) {

  static RequestTarget parse(String target) {
    String rest = target;
    if (!rest.startsWith("/")) {
      int scheme = rest.indexOf("://");
      if (scheme <= 0) {
        return null;
      }
      int path = rest.indexOf('/', scheme + 3);
      rest = path < 0 ? "/" : rest.substring(path);
    }
    int fragment = rest.indexOf('#');
    if (fragment >= 0) {
      rest = rest.substring(0, fragment);
    }
    int query = rest.indexOf('?');
    String path = query < 0 ? rest : rest.substring(0, query);
    String rawQuery = query < 0 ? null : rest.substring(query + 1);
    return ambiguous(path) ? null : new RequestTarget(path, rawQuery);
  }

  private static boolean ambiguous(String path) {
    if (path.indexOf('\\') >= 0) {
      return true;
    }
    for (int i = path.indexOf('%'); i >= 0; i = path.indexOf('%', i + 1)) {
      if (i + 2 >= path.length()
          || Character.digit(path.charAt(i + 1), 16) < 0
          || Character.digit(path.charAt(i + 2), 16) < 0) {
        return true;
      }
      String escape = path.substring(i + 1, i + 3).toUpperCase(Locale.ROOT);
      if (escape.equals("2F") || escape.equals("5C") || escape.equals("00")) {
        return true;
      }
    }
    for (String segment : path.split("/", -1)) {
      String decoded = segment.replace("%2e", ".").replace("%2E", ".");
      if (decoded.equals(".") || decoded.equals("..")) {
        return true;
      }
    }
    return false;
  }
}
