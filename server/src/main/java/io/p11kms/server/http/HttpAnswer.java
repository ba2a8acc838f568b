package io.p11kms.server.http;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A response an {@link HttpHandler} gives: status, content type, body, headers of its own, whether
 * the connection is closed once it is sent, and whether the body is cleared once sent (it may hold
 * plaintext).
 */
public final class HttpAnswer {
  private final int status;
  private final String contentType;
  private final byte[] body;
  private final List<Map.Entry<String, String>> headers = new ArrayList<>(2);
  private boolean close;
  private boolean secret;

  private HttpAnswer(int status, String contentType, byte[] body) {
    this.status = status;
    this.contentType = contentType;
    this.body = body;
  }

  public static HttpAnswer of(int status, String contentType, byte[] body) {
    return new HttpAnswer(status, contentType, body);
  }

  /** This, with the header {@code name: value}. */
  public HttpAnswer header(String name, String value) {
    headers.add(Map.entry(name, value));
    return this;
  }

  /** This, the connection closed once it is sent ({@code Connection: close}). */
  public HttpAnswer closing() {
    close = true;
    return this;
  }

  /** This, its body cleared once sent. */
  public HttpAnswer secret() {
    secret = true;
    return this;
  }

  int status() {
    return status;
  }

  String contentType() {
    return contentType;
  }

  byte[] body() {
    return body;
  }

  List<Map.Entry<String, String>> headers() {
    return headers;
  }

  boolean close() {
    return close;
  }

  boolean isSecret() {
    return secret;
  }
}
