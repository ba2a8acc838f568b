package io.p11kms.server.awsjson;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import io.p11kms.server.access.AccessControl;
import io.p11kms.server.access.Caller;
import io.p11kms.server.access.OperationRequest;
import io.p11kms.server.http.HttpAnswer;
import io.p11kms.server.http.HttpCall;
import io.p11kms.server.http.HttpHandler;
import io.p11kms.server.http.HttpRequestIds;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.service.KmsServices;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;

/**
 * The AWS KMS JSON 1.1 API: {@code POST /} with {@code X-Amz-Target: TrentService.<Operation>}. For
 * each request, once its body is read, in order: the target names an operation ({@code
 * UnknownOperationException}), the body fits ({@code ValidationException}), the request
 * authenticates ({@link RequestAuthenticator}), the body is the operation's JSON ({@code
 * SerializationException}), and the operation runs through {@link AccessControl#run}, which
 * validates, authorises, runs and records it as it does for gRPC. Every response carries {@code
 * x-amzn-RequestId}, the id its audit record names; a failure is {@code {"__type", "message"}}
 * ({@link WireError}).
 */
public final class AwsJsonHandler implements HttpHandler {
  /**
   * The largest body taken (the listener's limit): every member AWS allows (a 32 KiB policy,
   * escaped) fits.
   */
  public static final int MAX_BODY_BYTES = 256 * 1024;

  static final String TARGET_PREFIX = "TrentService.";
  static final String REQUEST_ID = "x-amzn-RequestId";
  private static final String TARGET = "X-Amz-Target";
  private static final byte[] EMPTY_OBJECT = {'{', '}'};

  private final ObjectMapper json = AwsJson.mapper();

  /** Each request record's reader, made once ({@code readValue} looks the type up per call). */
  private final ClassValue<ObjectReader> readers =
      new ClassValue<>() {
        @Override
        protected ObjectReader computeValue(Class<?> type) {
          return json.readerFor(type);
        }
      };

  private final Routes routes;
  private final AccessControl control;
  private final RequestAuthenticator authenticator;

  AwsJsonHandler(Routes routes, AccessControl control, RequestAuthenticator authenticator) {
    this.routes = routes;
    this.control = control;
    this.authenticator = authenticator;
  }

  /** The API over {@code services}, each request authenticated by {@code authenticator}. */
  public static AwsJsonHandler of(
      KmsServices services, AccessControl control, RequestAuthenticator authenticator) {
    return new AwsJsonHandler(Routes.of(services, control), control, authenticator);
  }

  @Override
  public HttpAnswer handle(HttpCall request) {
    String requestId = HttpRequestIds.newId();
    Object body;
    int status;
    try {
      body = serve(request, requestId);
      status = 200;
    } catch (Throwable e) {
      WireError error = WireError.of(e);
      body = error;
      status = error.status();
    }
    byte[] bytes;
    try {
      bytes = json.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      WireError error = WireError.of(e);
      status = error.status();
      bytes = writeError(error);
    } finally {
      if (body instanceof Route.Secret secret) {
        secret.wipe();
      }
    }
    // The body may hold plaintext (Decrypt, GenerateDataKey): cleared once sent.
    return HttpAnswer.of(status, AwsJson.CONTENT_TYPE, bytes)
        .header(REQUEST_ID, requestId)
        .secret();
  }

  /**
   * A request the listener refused before reading it in full (malformed, headers too large, an
   * ambiguous path), or one whose handling failed: a {@code ValidationException} (a 4xx) or {@code
   * KMSInternalException}, with the status the listener chose.
   */
  @Override
  public HttpAnswer refusal(int status) {
    return unread(
        new WireError(
            status,
            status >= 500 ? "KMSInternalException" : WireException.VALIDATION,
            "The request was refused: HTTP " + status));
  }

  /**
   * A request the listener cannot hold now (its bodies' budget is spent): {@code
   * ThrottlingException}, which the AWS SDKs retry after a back-off.
   */
  @Override
  public HttpAnswer overloaded() {
    return unread(
        new WireError(400, "ThrottlingException", "Too many requests at once; retry later"));
  }

  /** {@code error} as the answer to a request the listener refused before the handler saw it. */
  private HttpAnswer unread(WireError error) {
    return HttpAnswer.of(error.status(), AwsJson.CONTENT_TYPE, writeError(error))
        .header(REQUEST_ID, HttpRequestIds.newId());
  }

  private Object serve(HttpCall request, String requestId) {
    // The listener read the body in full before the handler runs: an answer sent while the client
    // still sent would leave the connection closed under the client's next request on it.
    // The listener zeroes the body once this returns, whatever the answer.
    byte[] body = request.body();
    Route<?, ?> route = route(request);
    if (body == null) {
      throw tooLarge();
    }
    Caller caller;
    try {
      caller = authenticator.authenticate(request, body);
    } catch (AuthenticationException e) {
      control.refusedAuthentication(
          request.remoteAddress(),
          control.caller(claimant(e)),
          requestId,
          route.operation(),
          e.awsName());
      throw e;
    }
    try {
      caller = actingFor(request, caller);
    } catch (KmsException | AuthenticationException e) {
      control.start(caller, requestId, route.operation(), null).failed(WireError.of(e).type());
      throw e;
    }
    return run(route, caller, requestId, body);
  }

  /**
   * The caller acting for the customer a registered service names in the headers {@link
   * Caller#ON_BEHALF_OF_HEADER} and {@link Caller#ON_BEHALF_OF_ACCOUNT_HEADER}, as over gRPC; each
   * one sent must be signed ({@code InvalidSignatureException}).
   */
  private Caller actingFor(HttpCall request, Caller caller) {
    String customer = request.header(Caller.ON_BEHALF_OF_HEADER);
    String customerAccount = request.header(Caller.ON_BEHALF_OF_ACCOUNT_HEADER);
    for (String header : List.of(Caller.ON_BEHALF_OF_HEADER, Caller.ON_BEHALF_OF_ACCOUNT_HEADER)) {
      if (request.header(header) != null && !authenticator.covers(request, header)) {
        throw new AuthenticationException(
            "InvalidSignatureException",
            "'" + header + "' must be a 'SignedHeader' in the AWS Authorization.",
            caller.principal());
      }
    }
    return control.actingFor(caller, customer, customerAccount);
  }

  private <Q extends OperationRequest, S> Object run(
      Route<Q, S> route, Caller caller, String requestId, byte[] body) {
    Q request;
    try {
      request = read(route.requestType(), body);
    } catch (WireException e) {
      control.start(caller, requestId, route.operation(), null).failed(e.awsName());
      throw e;
    } finally {
      wipe(body);
    }
    S result =
        control.run(
            caller,
            requestId,
            route.operation(),
            null,
            request,
            control.lookup(caller),
            lookup -> route.call().apply(new Route.Call(caller, lookup), request));
    return route.response().apply(result);
  }

  private Route<?, ?> route(HttpCall request) {
    if (!"POST".equals(request.method()) || !"/".equals(request.rawPath())) {
      throw new WireException(
          WireException.UNKNOWN_OPERATION, "The AWS KMS API is served at POST /");
    }
    String target = request.header(TARGET);
    if (target == null || !target.startsWith(TARGET_PREFIX)) {
      throw new WireException(
          WireException.UNKNOWN_OPERATION,
          "X-Amz-Target must name an operation as " + TARGET_PREFIX + "<Operation>");
    }
    Route<?, ?> route = routes.find(target.substring(TARGET_PREFIX.length()));
    if (route == null) {
      throw new WireException(
          WireException.UNKNOWN_OPERATION, "X-Amz-Target names no operation of this service");
    }
    return route;
  }

  private <Q> Q read(Class<Q> type, byte[] body) {
    try {
      Q request = readers.get(type).readValue(body.length == 0 ? EMPTY_OBJECT : body);
      if (request == null) {
        throw new WireException(
            WireException.SERIALIZATION, "The request body must be a JSON object");
      }
      return request;
    } catch (MismatchedInputException e) {
      throw new WireException(WireException.SERIALIZATION, mismatch(e));
    } catch (IOException e) {
      throw new WireException(WireException.SERIALIZATION, "The request body is not valid JSON");
    }
  }

  /** Names the member whose value has the wrong type, never the value itself. */
  private static String mismatch(MismatchedInputException e) {
    StringBuilder path = new StringBuilder();
    for (com.fasterxml.jackson.databind.JsonMappingException.Reference r : e.getPath()) {
      if (r.getFieldName() != null) {
        path.append(path.length() == 0 ? "" : ".").append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        path.append('[').append(r.getIndex()).append(']');
      }
    }
    return path.length() == 0
        ? "The request body is not a JSON object of this operation's members"
        : "The member " + path + " does not have the type the operation expects";
  }

  private static WireException tooLarge() {
    return new WireException(
        WireException.VALIDATION, "The request body exceeds " + MAX_BODY_BYTES + " bytes");
  }

  private static String claimant(AuthenticationException e) {
    return e.claimant().isEmpty() ? "unauthenticated" : e.claimant();
  }

  private byte[] writeError(WireError error) {
    try {
      return json.writeValueAsBytes(error);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("an error body could not be written", e);
    }
  }

  private static void wipe(byte[] bytes) {
    Arrays.fill(bytes, (byte) 0);
  }
}
