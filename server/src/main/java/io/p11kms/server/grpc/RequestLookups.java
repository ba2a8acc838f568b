package io.p11kms.server.grpc;

import io.grpc.Context;
import io.p11kms.server.service.KeyLookup;
import io.p11kms.server.service.KeyService;

/**
 * Carries a call's {@link KeyLookup} in its gRPC context, from the access check that fills it to
 * the handler that reuses it, so that the service itself stays free of gRPC.
 */
final class RequestLookups {
  private static final Context.Key<KeyLookup> LOOKUP = Context.key("p11kms-key-lookup");

  private RequestLookups() {}

  static Context with(Context context, KeyLookup lookup) {
    return context.withValue(LOOKUP, lookup);
  }

  /** The current call's lookup; a new one when no access layer made one. */
  static KeyLookup current(KeyService keys) {
    KeyLookup lookup = LOOKUP.get();
    return lookup != null ? lookup : keys.lookup();
  }
}
