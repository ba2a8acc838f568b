package io.p11kms.server.awsjson;

import io.p11kms.server.access.Caller;
import io.p11kms.server.http.HttpCall;
import io.p11kms.server.sigv4.SigV4Exception;
import io.p11kms.server.sigv4.SigV4Verifier;
import io.p11kms.server.sigv4.SignedRequest;
import java.util.Map;

/**
 * Authenticates a request of the JSON API by its AWS Signature Version 4 (service {@code kms},
 * {@code X-Amz-Target} signed, so that a signed call cannot be replayed as another operation): the
 * caller is the principal and account of the access key that signed it. A refusal keeps AWS's
 * exception name ({@code InvalidSignatureException}, {@code UnrecognizedClientException}, {@code
 * IncompleteSignatureException}, {@code MissingAuthenticationTokenException}) and names the access
 * key id the request claimed, for the audit record.
 */
final class SigV4Authenticator implements RequestAuthenticator {
  static final String SERVICE = "kms";

  private final SigV4Verifier verifier;

  SigV4Authenticator(SigV4Verifier verifier) {
    this.verifier = verifier;
  }

  @Override
  public Caller authenticate(HttpCall request, byte[] body) {
    try {
      return verifier.verify(signed(request).body(body).build()).caller();
    } catch (SigV4Exception e) {
      throw new AuthenticationException(
          e.awsName(), e.getMessage(), e.accessKeyId().map(id -> "access-key:" + id).orElse(""));
    }
  }

  /** Whether {@code name} is one of the request's SignedHeaders (its signature was verified). */
  @Override
  public boolean covers(HttpCall request, String name) {
    return SigV4Verifier.signs(signed(request).body(new byte[0]).build(), name);
  }

  private static SignedRequest.Builder signed(HttpCall request) {
    SignedRequest.Builder signed =
        SignedRequest.builder(request.method(), request.rawPath()).rawQuery(request.rawQuery());
    for (Map.Entry<String, String> header : request.headers()) {
      signed.header(header.getKey(), header.getValue());
    }
    return signed;
  }
}
