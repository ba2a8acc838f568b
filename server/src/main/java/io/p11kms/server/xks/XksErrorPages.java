package io.p11kms.server.xks;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * The XKS proxy API's answer to a request Jetty refuses before {@link XksHandler} sees it (a path
 * with an encoded '/', a malformed request, headers too large): the same one-line JSON error as
 * every other, never Jetty's HTML page.
 */
final class XksErrorPages extends ErrorHandler {
  @Override
  protected void generateResponse(
      Request request,
      Response response,
      int code,
      String message,
      Throwable cause,
      Callback callback) {
    XksError error =
        switch (code) {
          case 404 -> XksError.INVALID_URI_PATH;
          case 405 -> XksError.METHOD_NOT_ALLOWED;
          case 429 -> XksError.THROTTLING;
          case 503 -> XksError.DEPENDENCY_TIMEOUT;
          default -> code >= 400 && code < 500 ? XksError.VALIDATION : XksError.INTERNAL;
        };
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    response.write(
        true,
        ByteBuffer.wrap(
            XksJson.error(error, "The request was refused: HTTP " + code)
                .getBytes(StandardCharsets.UTF_8)),
        callback);
  }
}
