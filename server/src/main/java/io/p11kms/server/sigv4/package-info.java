/**
 * AWS Signature Version 4 verification for the HTTP front ends (the AWS KMS JSON API, service
 * {@code kms}; the XKS proxy API, service {@code kms-xks-proxy}), independent of any HTTP library.
 *
 * <h2>What a front end calls</h2>
 *
 * <pre>{@code
 * // Once, at start: one verifier per front end.
 * SigV4Verifier verifier =
 *     new SigV4Verifier(signingKeys, Clock.systemUTC(), "kms", config.arns().region(),
 *         Set.of("x-amz-target"));          // XKS: "kms-xks-proxy", region null, Set.of()
 *
 * // Per request, after the body is read, before anything else is done with it:
 * SignedRequest request =
 *     SignedRequest.builder(method, rawPath)   // path as on the request line, still encoded
 *         .rawQuery(rawQuery)                  // without '?'; null or "" for none
 *         .header(name, value)                 // every header, repeated ones once per value;
 *                                              // HTTP/2: ":authority" as "host"
 *         .body(bodyBytes)                     // or .payloadSha256(hex)
 *         .build();
 * try {
 *   AccessKeyCaller signer = verifier.verify(request); // accessKeyId(), caller()
 *   Caller caller = signer.caller();       // access.Caller: principal(), account()
 * } catch (SigV4Exception e) {
 *   // e.awsName(): MissingAuthenticationTokenException, IncompleteSignatureException,
 *   //   InvalidSignatureException or UnrecognizedClientException (e.failure() as an enum);
 *   // e.getMessage(): AWS's text, safe for the wire; e.accessKeyId(): the id the request
 *   //   named, if any, for the audit record. JSON API: HTTP 400 {"__type", "message"};
 *   //   XKS: 401 AuthenticationFailedException.
 * }
 * }</pre>
 *
 * <p>{@link io.p11kms.server.sigv4.SigningKeys} supplies the signing key of an access key id for a
 * date, region and service, or nothing for an unknown, disabled or out-of-scope id. In the server
 * it is {@code new AccessKeySigningKeys(AccessKeys.of(store), hsm)}: the access keys of the store
 * whose scope's signing service is the request's ({@code kms}: {@code AccessKeyScope.KMS_API};
 * {@code kms-xks-proxy}: {@code AccessKeyScope.XKS}), kDate computed by the token once per key and
 * day, a key's record read again at most every five seconds (a disable is seen that fast). Share
 * one instance between the front ends.
 *
 * <h2>Access keys</h2>
 *
 * <p>{@link io.p11kms.server.sigv4.AccessKeyService} makes them ({@code create(account, principal,
 * scope)} returns the secret once, as a {@code char[]}), lists, enables, disables and deletes them;
 * {@code p11kms access-key create|list|enable|disable|delete} is its command line ({@code --xks}
 * for an XKS credential). The secret is kept only as an EKT: "AWS4" + secret imported into the
 * token as an HMAC key and wrapped under the HMAC domain key.
 *
 * <h2>What is checked</h2>
 *
 * <p>See {@link io.p11kms.server.sigv4.SigV4Verifier}: header form, date within five minutes either
 * way, host (and any header the front end names) signed, credential scope (region, service,
 * terminator, date), the access key, no session token, {@code x-amz-content-sha256} against the
 * body, and the signature over the canonical request ({@link
 * io.p11kms.server.sigv4.CanonicalRequest}: the signed headers the Authorization header lists, in
 * its order), compared in constant time. Only the {@code Authorization} header form is accepted,
 * not query-string (presigned) signatures.
 */
package io.p11kms.server.sigv4;
