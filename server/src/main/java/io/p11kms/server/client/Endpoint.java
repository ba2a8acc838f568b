package io.p11kms.server.client;

import java.util.ArrayList;
import java.util.List;

/** One server a client may call: a host name or IP address and a port. */
public record Endpoint(String host, int port) {
  public Endpoint {
    if (host == null || host.isEmpty()) {
      throw new IllegalArgumentException("an endpoint needs a host");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " of " + host + " is not in 1-65535");
    }
  }

  /** Parses {@code host:port}; an IPv6 address goes in brackets: {@code [::1]:7443}. */
  public static Endpoint parse(String text) {
    String s = text.strip();
    String host;
    String port;
    if (s.startsWith("[")) {
      int close = s.indexOf(']');
      if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
        throw new IllegalArgumentException("endpoint '" + s + "' is not [ipv6]:port");
      }
      host = s.substring(1, close);
      port = s.substring(close + 2);
    } else {
      int colon = s.lastIndexOf(':');
      if (colon < 0 || s.indexOf(':') != colon) {
        throw new IllegalArgumentException(
            "endpoint '" + s + "' is not host:port (an IPv6 address goes in brackets)");
      }
      host = s.substring(0, colon);
      port = s.substring(colon + 1);
    }
    try {
      return new Endpoint(host, Integer.parseInt(port));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("endpoint '" + s + "' has no numeric port");
    }
  }

  /** Parses a comma-separated list of {@code host:port}; blank entries are refused. */
  public static List<Endpoint> parseList(String text) {
    List<Endpoint> endpoints = new ArrayList<>();
    for (String part : text.split(",", -1)) {
      if (part.isBlank()) {
        throw new IllegalArgumentException("empty endpoint in '" + text + "'");
      }
      endpoints.add(parse(part));
    }
    return List.copyOf(endpoints);
  }

  /** {@code host:port} as an authority (IPv6 in brackets): what TLS verifies the server as. */
  public String authority() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }

  @Override
  public String toString() {
    return authority();
  }
}
