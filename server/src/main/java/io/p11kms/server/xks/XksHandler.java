package io.p11kms.server.xks;

import io.p11kms.server.access.AccessControl;
import io.p11kms.server.access.Caller;
import io.p11kms.server.audit.AuditException;
import io.p11kms.server.http.HttpRequestIds;
import io.p11kms.server.http.RequestBodies;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.service.Operation;
import io.p11kms.server.service.XksService;
import io.p11kms.server.sigv4.AccessKeyCaller;
import io.p11kms.server.sigv4.SigV4Exception;
import io.p11kms.server.sigv4.SigV4Verifier;
import io.p11kms.server.sigv4.SignedRequest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The XKS proxy API's HTTP front end, a codec over the service: in order, POST only (405); the body
 * read (up to {@value #MAX_BODY} bytes); AWS Signature Version 4 with service {@code kms-xks-proxy}
 * (AuthenticationFailedException, 401); the path ({@code InvalidUriPathException}, 404, also for a
 * correctly signed request to a wrong prefix); the JSON (ValidationException); then the operation
 * through {@link AccessControl#run}, which authorises it (key policies, with the requestMetadata as
 * {@code xks:<field>} condition keys) and writes its audit record with the requestMetadata. Every
 * answer is compact one-line JSON; an error is {@code {"errorName","errorMessage"}}, never a stack
 * trace. More than {@code maxInFlight} requests at once: ThrottlingException (429).
 */
public final class XksHandler extends Handler.Abstract {
  private static final Logger log = LoggerFactory.getLogger(XksHandler.class);

  /** The largest body read: the largest valid request is about 100 KiB of Base64 and ARNs. */
  static final int MAX_BODY = 256 * 1024;

  private final XksRoute.Router router;
  private final SigV4Verifier verifier;
  private final AccessControl control;
  private final XksService service;
  private final XksHealthReport health;
  private final Semaphore inFlight;

  /**
   * @param base the URI path of the API, {@code [/<prefix>]/kms/xks/v1}
   * @param maxInFlight requests handled at once; more get ThrottlingException
   */
  public XksHandler(
      String base,
      SigV4Verifier verifier,
      AccessControl control,
      XksService service,
      XksHealthReport health,
      int maxInFlight) {
    super(InvocationType.BLOCKING);
    this.router = XksRoute.under(base);
    this.verifier = verifier;
    this.control = control;
    this.service = service;
    this.health = health;
    this.inFlight = new Semaphore(maxInFlight);
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    String requestId = HttpRequestIds.newId();
    Reply reply;
    boolean throttled = !inFlight.tryAcquire();
    if (throttled) {
      reply = Reply.error(XksError.THROTTLING, "Too many requests in flight; retry later");
    } else {
      try {
        reply = reply(request, requestId);
      } finally {
        inFlight.release();
      }
    }
    response.setStatus(reply.status());
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    response.getHeaders().put("x-request-id", requestId);
    if (reply.status() == 405) {
      response.getHeaders().put(HttpHeader.ALLOW, "POST");
    }
    if (throttled) {
      // Answered without reading the body: the client is told not to send more on this
      // connection, which Jetty closes once the answer is out.
      response.getHeaders().put(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE.asString());
    }
    response.write(true, ByteBuffer.wrap(reply.body().getBytes(StandardCharsets.UTF_8)), callback);
    return true;
  }

  private Reply reply(Request request, String requestId) {
    if (!"POST".equals(request.getMethod())) {
      return Reply.error(
          XksError.METHOD_NOT_ALLOWED, request.getMethod() + " is not allowed; the API takes POST");
    }
    byte[] body;
    try {
      body = RequestBodies.readAtMost(request, MAX_BODY).orElse(null);
    } catch (IOException e) {
      body = null;
    }
    if (body == null) {
      return Reply.error(
          XksError.VALIDATION, "The request body could not be read, or is over " + MAX_BODY);
    }
    String rawPath = request.getHttpURI().getPath();
    Optional<XksRoute> route = router.route(rawPath);
    Caller caller;
    try {
      AccessKeyCaller signer = verifier.verify(signed(request, rawPath, body));
      caller = signer.caller();
    } catch (SigV4Exception e) {
      route.ifPresent(r -> notAuthenticated(request, e, requestId, r));
      log.info("XKS request {} not authenticated: {}", requestId, e.awsName());
      return Reply.error(XksError.AUTHENTICATION_FAILED, e.getMessage());
    }
    if (route.isEmpty()) {
      return Reply.error(XksError.INVALID_URI_PATH, "No XKS proxy API operation at this path");
    }
    try {
      return run(caller, requestId, route.get(), body);
    } catch (XksException e) {
      refused(caller, requestId, route.get(), e.error().errorName());
      return Reply.error(e.error(), e.getMessage());
    } catch (KmsException e) {
      return Reply.error(XksError.of(e.error()), e.getMessage());
    } catch (AuditException e) {
      log.error("XKS request {}: the audit log cannot be written", requestId, e);
      return Reply.error(XksError.INTERNAL, "Internal error");
    } catch (RuntimeException e) {
      log.error("XKS request {} failed", requestId, e);
      return Reply.error(XksError.INTERNAL, "Internal error");
    }
  }

  private Reply run(Caller caller, String requestId, XksRoute route, byte[] body) {
    XksRequest r = XksJson.request(route, body);
    Operation op = route.operation();
    String json =
        control.run(
            caller,
            requestId,
            op,
            null,
            r,
            control.lookup(caller),
            lookup ->
                switch (op) {
                  case XKS_GET_HEALTH_STATUS -> health.json();
                  case XKS_GET_KEY_METADATA ->
                      XksJson.metadata(service.metadata(lookup, r.externalKeyId()));
                  case XKS_ENCRYPT ->
                      XksJson.encrypted(service.encrypt(lookup, r.externalKeyId(), r.encrypt()));
                  case XKS_DECRYPT -> {
                    byte[] plaintext = service.decrypt(lookup, r.externalKeyId(), r.decrypt());
                    try {
                      yield XksJson.decrypted(plaintext);
                    } finally {
                      Arrays.fill(plaintext, (byte) 0);
                    }
                  }
                  default -> throw new IllegalStateException("not an XKS operation: " + op);
                });
    return new Reply(200, json);
  }

  /** Audits a request that did not authenticate, within the client address's bound. */
  private void notAuthenticated(
      Request request, SigV4Exception e, String requestId, XksRoute route) {
    try {
      control.refusedAuthentication(
          Request.getRemoteAddr(request),
          control.caller("accessKey:" + e.accessKeyId().orElse("none")),
          requestId,
          route.operation(),
          XksError.AUTHENTICATION_FAILED.errorName());
    } catch (AuditException failure) {
      log.error("XKS request {}: the audit log cannot be written", requestId, failure);
    }
  }

  /** Audits an authenticated request refused before the service saw it (malformed JSON). */
  private void refused(Caller caller, String requestId, XksRoute route, String errorName) {
    try {
      control.start(caller, requestId, route.operation(), null).failed(errorName);
    } catch (AuditException e) {
      log.error("XKS request {}: the audit log cannot be written", requestId, e);
    }
  }

  private static SignedRequest signed(Request request, String rawPath, byte[] body) {
    SignedRequest.Builder b =
        SignedRequest.builder(request.getMethod(), rawPath)
            .rawQuery(request.getHttpURI().getQuery());
    for (HttpField field : request.getHeaders()) {
      b.header(field.getName(), field.getValue());
    }
    return b.body(body).build();
  }

  /** A response: status and JSON body. */
  private record Reply(int status, String body) {
    static Reply error(XksError error, String message) {
      return new Reply(error.status(), XksJson.error(error, message));
    }
  }
}
