package io.p11kms.server.http;

/** A front end served by an {@link HttpListener}: its answers, in its own wire format. */
public interface HttpHandler {
  /** Answers {@code call}; runs on one of the listener's handler threads and may block. */
  HttpAnswer handle(HttpCall call);

  /**
   * The answer to a request the listener refuses before {@link #handle} sees it (status 400: a
   * malformed request or an ambiguous path; 414: request line too long; 431: headers too large;
   * 500: the handler failed), in the front end's format.
   */
  HttpAnswer refusal(int status);

  /**
   * The answer to a request over the listener's limit of requests in flight or of request bodies
   * held at once (the default: 429).
   */
  default HttpAnswer overloaded() {
    return refusal(429);
  }
}
