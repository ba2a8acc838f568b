package io.p11kms.server.xks;

import io.p11kms.server.service.Operation;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which XKS proxy API operation a request path names: {@code <prefix>/kms/xks/v1/health} or {@code
 * <prefix>/kms/xks/v1/keys/<externalKeyId>/(metadata|encrypt|decrypt)}, the prefix as configured.
 *
 * @param externalKeyId empty for GetHealthStatus
 */
record XksRoute(Operation operation, String externalKeyId) {
  private static final Pattern KEY_PATH =
      Pattern.compile("/keys/([^/]+)/(metadata|encrypt|decrypt)");

  /** The routes under {@code base} ({@code [/<prefix>]/kms/xks/v1}). */
  static Router under(String base) {
    return new Router(base);
  }

  /** Matches raw (still percent-encoded) request paths against one base. */
  static final class Router {
    private final String base;

    private Router(String base) {
      this.base = base;
    }

    /** The route of {@code rawPath}; empty when it names none (InvalidUriPathException). */
    Optional<XksRoute> route(String rawPath) {
      if (rawPath == null || !rawPath.startsWith(base)) {
        return Optional.empty();
      }
      String rest = rawPath.substring(base.length());
      if (rest.equals("/health")) {
        return Optional.of(new XksRoute(Operation.XKS_GET_HEALTH_STATUS, ""));
      }
      Matcher m = KEY_PATH.matcher(rest);
      if (!m.matches()) {
        return Optional.empty();
      }
      Operation op =
          switch (m.group(2)) {
            case "metadata" -> Operation.XKS_GET_KEY_METADATA;
            case "encrypt" -> Operation.XKS_ENCRYPT;
            default -> Operation.XKS_DECRYPT;
          };
      return Optional.of(new XksRoute(op, m.group(1)));
    }
  }
}
