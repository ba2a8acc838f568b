package io.p11kms.server.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.p11kms.server.auth.Principals;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Puts the caller's principal in the gRPC {@link Context}, where {@link #current} finds it. With
 * TLS the principal comes from the verified client certificate, and a call without one is closed as
 * UNAUTHENTICATED (the handshake normally refuses it first); without TLS, which the server allows
 * only in development mode ({@code dev.mode}), every call is {@link Principals#LOCAL}.
 */
public final class PrincipalInterceptor implements ServerInterceptor {
  private static final Context.Key<String> CURRENT = Context.key("p11kms-principal");

  private final boolean tls;

  public PrincipalInterceptor(boolean tls) {
    this.tls = tls;
  }

  /** The principal of the current call; {@link Principals#LOCAL} outside a call. */
  public static String current() {
    String principal = CURRENT.get();
    return principal == null ? Principals.LOCAL : principal;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String principal = principal(call, tls);
    if (principal == null) {
      refuse(call);
      return new ServerCall.Listener<>() {};
    }
    return Contexts.interceptCall(with(Context.current(), principal), call, headers, next);
  }

  /**
   * The principal of {@code call}: from its verified client certificate with {@code tls}, else
   * {@link Principals#LOCAL}; null when a TLS call has no certificate ({@link #refuse} it).
   */
  static String principal(ServerCall<?, ?> call, boolean tls) {
    return tls ? fromCertificate(call) : Principals.LOCAL;
  }

  /** Closes a call without a principal as UNAUTHENTICATED. */
  static void refuse(ServerCall<?, ?> call) {
    call.close(
        Status.UNAUTHENTICATED.withDescription("a client certificate is required"), new Metadata());
  }

  /** {@code context} carrying {@code principal} as the call's, where {@link #current} finds it. */
  static Context with(Context context, String principal) {
    return context.withValue(CURRENT, principal);
  }

  private static String fromCertificate(ServerCall<?, ?> call) {
    SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (session == null) {
      return null;
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      if (chain.length > 0 && chain[0] instanceof X509Certificate leaf) {
        return Principals.of(leaf);
      }
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
    return null;
  }
}
