package io.p11kms.it;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;
import java.util.concurrent.TimeUnit;

/**
 * Gives each call its own deadline. A stub's {@code withDeadlineAfter} fixes one instant for every
 * call made through it, so a stub kept for a whole test class would start failing once the class
 * has run that long (on a loaded machine, a class of 10,000 calls does).
 */
final class PerCallDeadline implements ClientInterceptor {
  private final long seconds;

  private PerCallDeadline(long seconds) {
    this.seconds = seconds;
  }

  static PerCallDeadline ofSeconds(long seconds) {
    return new PerCallDeadline(seconds);
  }

  @Override
  public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
      MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
    CallOptions withDeadline =
        options.getDeadline() == null
            ? options.withDeadlineAfter(seconds, TimeUnit.SECONDS)
            : options;
    return next.newCall(method, withDeadline);
  }
}
