package io.p11kms.server.xks;

import io.p11kms.server.access.AccessControl;
import io.p11kms.server.access.Caller;
import io.p11kms.server.audit.AuditException;
import io.p11kms.server.http.HttpAnswer;
import io.p11kms.server.http.HttpCall;
import io.p11kms.server.http.HttpHandler;
import io.p11kms.server.http.HttpListener;
import io.p11kms.server.http.HttpRequestIds;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.service.Operation;
import io.p11kms.server.service.XksService;
import io.p11kms.server.sigv4.AccessKeyCaller;
import io.p11kms.server.sigv4.SigV4Exception;
import io.p11kms.server.sigv4.SigV4Verifier;
import io.p11kms.server.sigv4.SignedRequest;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
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
 * trace. More requests at once than the listener takes ({@link XksFrontEnd}): ThrottlingException
 * (429).
 */
public final class XksHandler implements HttpHandler {
  private static final Logger log = LoggerFactory.getLogger(XksHandler.class);

  /**
   * The largest body read (the listener's limit): the largest valid request is about 100 KiB of
   * Base64 and ARNs.
   */
  static final int MAX_BODY = HttpListener.MAX_BODY_BYTES;

  private final XksRoute.Router router;
  private final SigV4Verifier verifier;
  private final AccessControl control;
  private final XksService service;
  private final XksHealthReport health;

  /**
   * @param base the URI path of the API, {@code [/<prefix>]/kms/xks/v1}
   */
  public XksHandler(
      String base,
      SigV4Verifier verifier,
      AccessControl control,
      XksService service,
      XksHealthReport health) {
    this.router = XksRoute.under(base);
    this.verifier = verifier;
    this.control = control;
    this.service = service;
    this.health = health;
  }

  @Override
  public HttpAnswer handle(HttpCall request) {
    String requestId = HttpRequestIds.newId();
    Reply reply = reply(request, requestId);
    HttpAnswer answer = answer(reply).header("x-request-id", requestId);
    return reply.status() == 405 ? answer.header("Allow", "POST") : answer;
  }

  /**
   * A request the listener refused before reading it in full (a path with an encoded '/', a
   * malformed request, headers too large), or whose handling failed: the same one-line JSON error
   * as every other.
   */
  @Override
  public HttpAnswer refusal(int status) {
    return answer(
        Reply.error(XksErrorPages.errorOf(status), "The request was refused: HTTP " + status));
  }

  /** More requests in flight than the listener takes: answered without reading the body. */
  @Override
  public HttpAnswer overloaded() {
    return answer(Reply.error(XksError.THROTTLING, "Too many requests in flight; retry later"))
        .header("x-request-id", HttpRequestIds.newId());
  }

  private static HttpAnswer answer(Reply reply) {
    return HttpAnswer.of(
        reply.status(), "application/json", reply.body().getBytes(StandardCharsets.UTF_8));
  }

  private Reply reply(HttpCall request, String requestId) {
    if (!"POST".equals(request.method())) {
      return Reply.error(
          XksError.METHOD_NOT_ALLOWED, request.method() + " is not allowed; the API takes POST");
    }
    byte[] body = request.body();
    if (body == null) {
      return Reply.error(
          XksError.VALIDATION, "The request body could not be read, or is over " + MAX_BODY);
    }
    String rawPath = request.rawPath();
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
      HttpCall request, SigV4Exception e, String requestId, XksRoute route) {
    try {
      control.refusedAuthentication(
          request.remoteAddress(),
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

  private static SignedRequest signed(HttpCall request, String rawPath, byte[] body) {
    SignedRequest.Builder b =
        SignedRequest.builder(request.method(), rawPath).rawQuery(request.rawQuery());
    for (Map.Entry<String, String> header : request.headers()) {
      b.header(header.getKey(), header.getValue());
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
