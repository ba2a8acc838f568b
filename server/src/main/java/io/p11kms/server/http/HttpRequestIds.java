package io.p11kms.server.http;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The HTTP front ends' request ids (the AWS JSON API's {@code x-amzn-RequestId}, the XKS proxy
 * API's, and their audit records'): a random UUID (version 4) as AWS sends, drawn from {@link
 * ThreadLocalRandom} as the gRPC front end's ids are. A request id names a call in the logs and
 * guards nothing, so it needs no {@code SecureRandom}, whose one lock the handler threads queued on
 * ({@link UUID#randomUUID}).
 */
public final class HttpRequestIds {
  private HttpRequestIds() {}

  public static String newId() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long high = (random.nextLong() & ~0xF000L) | 0x4000L; // version 4
    long low = (random.nextLong() & ~(0x3L << 62)) | (0x2L << 62); // IETF variant
    return new UUID(high, low).toString();
  }
}
