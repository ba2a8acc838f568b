package io.p11kms.server.awsjson;

import io.p11kms.server.frontend.FrontEnd;
import io.p11kms.server.http.HttpListener;

/** The AWS KMS JSON API, running on its own HTTP listener ({@link AwsApi#start} starts it). */
public final class AwsJsonFrontEnd implements FrontEnd {
  private final HttpListener listener;

  AwsJsonFrontEnd(HttpListener listener) {
    this.listener = listener;
  }

  @Override
  public int port() {
    return listener.port();
  }

  @Override
  public void close() {
    listener.close();
  }
}
