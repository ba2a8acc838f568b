package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * An HTTP/1.1 response read off a raw socket, for the tests that speak to a listener byte by byte:
 * the status line, the header lines lower-cased, the body (by its Content-Length).
 */
record RawHttpResponse(String statusLine, List<String> headers, String body) {
  static RawHttpResponse read(InputStream in) throws IOException {
    String status = line(in);
    assertThat(status).as("a response").isNotNull();
    List<String> headers = new ArrayList<>();
    int length = 0;
    for (String header = line(in); header != null && !header.isEmpty(); header = line(in)) {
      String lower = header.toLowerCase(Locale.ROOT);
      headers.add(lower);
      if (lower.startsWith("content-length:")) {
        length = Integer.parseInt(lower.substring("content-length:".length()).trim());
      }
    }
    return new RawHttpResponse(
        status, headers, new String(in.readNBytes(length), StandardCharsets.UTF_8));
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    for (int c = in.read(); c != '\n'; c = in.read()) {
      if (c < 0) {
        return line.length() == 0 ? null : line.toString();
      }
      if (c != '\r') {
        line.append((char) c);
      }
    }
    return line.toString();
  }
}
