package io.p11kms.hsm;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * Lets a caller make its token calls on its own thread instead of handing each one to a token
 * worker and waiting for it: two thread wake-ups fewer per call.
 *
 * <p>A native PKCS#11 call cannot be interrupted, so a hung call keeps the thread that made it.
 * Only a caller that can be answered from another thread may therefore call inline (a gRPC call is:
 * its answer is a message, not a return). Inside {@link #run}, when a token call passes its
 * deadline, {@code onDeadline} runs once on a token worker, to answer the caller with a timeout;
 * the call, when it returns, throws {@link HsmUnavailableException} as a call abandoned at its
 * deadline on a worker would have: its result is discarded and its session closed. Outside {@link
 * #run}, calls run on token workers.
 */
public final class InlineTokenCalls {
  private static final ThreadLocal<Runnable> ON_DEADLINE = new ThreadLocal<>();

  private InlineTokenCalls() {}

  /**
   * Runs {@code body} with its token calls on this thread.
   *
   * @param onDeadline answers the caller when a token call passes its deadline; quick, and safe to
   *     run while {@code body} is still blocked in that call
   */
  public static <T> T run(Runnable onDeadline, Supplier<T> body) {
    Objects.requireNonNull(onDeadline, "onDeadline");
    Runnable outer = ON_DEADLINE.get();
    ON_DEADLINE.set(onDeadline);
    try {
      return body.get();
    } finally {
      if (outer == null) {
        ON_DEADLINE.remove();
      } else {
        ON_DEADLINE.set(outer);
      }
    }
  }

  /** What answers this thread's caller at a deadline; null when its calls go to token workers. */
  static Runnable onDeadline() {
    return ON_DEADLINE.get();
  }
}
