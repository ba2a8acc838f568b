package io.p11kms.server.grpc;

import io.grpc.Context;
import io.p11kms.server.access.AccessControl;
import io.p11kms.server.access.Caller;
import io.p11kms.server.service.KeyLookup;
import io.p11kms.server.service.KeyService;

/**
 * Carries a call's {@link KeyLookup} in its gRPC context, from the access check that fills it to
 * the handler that reuses it, so that the service itself stays free of gRPC.
 */
final class RequestLookups {
  private static final Context.Key<KeyLookup> LOOKUP = Context.key("p11kms-key-lookup");
  private static final Context.Key<Caller> CALLER = Context.key("p11kms-caller");

  private RequestLookups() {}

  static Context with(Context context, KeyLookup lookup) {
    return context.withValue(LOOKUP, lookup);
  }

  /** As {@link #with(Context, KeyLookup)}, with the call's caller. */
  static Context with(Context context, KeyLookup lookup, Caller caller) {
    return context.withValue(LOOKUP, lookup).withValue(CALLER, caller);
  }

  /** The current call's lookup; a new one of the default account when no access layer made one. */
  static KeyLookup current(AccessControl control) {
    KeyLookup lookup = LOOKUP.get();
    return lookup != null ? lookup : control.lookup();
  }

  /**
   * The principal and account the current call is for (the customer a service acts for, if it
   * does); the transport's principal in its account when no access layer named one.
   */
  static Caller caller(AccessControl control) {
    Caller caller = CALLER.get();
    return (caller != null ? caller : control.caller(PrincipalInterceptor.current())).effective();
  }

  /** The current call's lookup; a new one when no access layer made one. */
  static KeyLookup current(KeyService keys) {
    KeyLookup lookup = LOOKUP.get();
    return lookup != null ? lookup : keys.lookup();
  }
}
