package io.p11kms.server.grpc;

import io.grpc.Context;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One id per call, shared by everything that speaks of the call: the audit record, the request log
 * line and the {@code x-request-id} header. The first interceptor to see a call makes the id and
 * puts it in the gRPC {@link Context}; the others take it from there. A client cannot set it.
 */
public final class RequestIds {
  private static final Context.Key<String> KEY = Context.key("p11kms-request-id");

  private RequestIds() {}

  /** The current call's id, or a new one when no interceptor has made it yet. */
  public static String currentOrNew() {
    String id = KEY.get();
    return id != null ? id : newId();
  }

  /** {@code context} carrying {@code id} as the call's request id. */
  public static Context with(Context context, String id) {
    return context.withValue(KEY, id);
  }

  private static String newId() {
    return Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
  }
}
