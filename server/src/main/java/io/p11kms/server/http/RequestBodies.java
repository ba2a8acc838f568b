package io.p11kms.server.http;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Optional;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;

/**
 * Reads a request body of at most a given size. A body over the limit is read on and thrown away
 * (up to {@link #DRAIN_LIMIT} bytes) before the caller answers, so that a client still sending it
 * reads the error instead of a connection reset; a body declared larger than that is not read at
 * all.
 */
public final class RequestBodies {

  /** The most bytes of an oversized body read and thrown away before the error is sent. */
  static final long DRAIN_LIMIT = 4L * 1024 * 1024;

  private RequestBodies() {}

  /**
   * The body, or empty when it is over {@code max} bytes.
   *
   * @throws IOException when the body cannot be read
   */
  public static Optional<byte[]> readAtMost(Request request, int max) throws IOException {
    long declared = request.getLength();
    if (declared > DRAIN_LIMIT) {
      return Optional.empty();
    }
    try (InputStream in = Content.Source.asInputStream(request)) {
      if (declared >= 0 && declared <= max) {
        // The usual case: read into an array of the declared size (Jetty holds the body to it).
        byte[] body = new byte[(int) declared];
        int read = in.readNBytes(body, 0, body.length);
        if (read == body.length) {
          return Optional.of(body);
        }
        byte[] shorter = Arrays.copyOf(body, read);
        Arrays.fill(body, (byte) 0);
        return Optional.of(shorter);
      }
      byte[] body = in.readNBytes(max + 1);
      if (body.length <= max) {
        return Optional.of(body);
      }
      Arrays.fill(body, (byte) 0);
      drain(in, DRAIN_LIMIT - body.length);
      return Optional.empty();
    }
  }

  private static void drain(InputStream in, long limit) throws IOException {
    byte[] buffer = new byte[8192];
    long left = limit;
    int n;
    while (left > 0 && (n = in.read(buffer, 0, (int) Math.min(buffer.length, left))) > 0) {
      left -= n;
    }
    Arrays.fill(buffer, (byte) 0);
  }
}
