package io.p11kms.server.http;

import java.security.cert.X509Certificate;
import java.util.Map;

/**
 * One HTTP request as an {@link HttpHandler} sees it: its method, raw path and query (as sent,
 * percent-encoded), its headers as received, its body read in full (or null when it was over the
 * listener's limit), the client's address, and the client's verified certificate on a TLS listener
 * that asked for one.
 */
public interface HttpCall {
  String method();

  /** The path as sent, percent-encoded (what a SigV4 signature covers). */
  String rawPath();

  /** The query as sent, without the '?'; null when there is none. */
  String rawQuery();

  /** The first value of the header {@code name} (any case), or null. */
  String header(String name);

  /** Every header as received, names as sent, in order. */
  Iterable<Map.Entry<String, String>> headers();

  /** The body as received; null when it was over the listener's limit (read on and discarded). */
  byte[] body();

  /** The client's IP address. */
  String remoteAddress();

  /**
   * The client's verified certificate on a TLS listener that asked for one, or null (none sent, or
   * plaintext).
   */
  X509Certificate clientCertificate();
}
