package io.p11kms.hsm.testing;

import io.p11kms.hsm.TokenCallInterceptor;
import java.util.concurrent.atomic.AtomicInteger;

/** Counts the adapter's searches (C_FindObjects) while on: give it to {@code Pkcs11Hsm.open}. */
public final class SearchCounter implements TokenCallInterceptor {
  /** Work that may throw, as a test's token calls do. */
  public interface Work {
    void run() throws Exception;
  }

  private final AtomicInteger count = new AtomicInteger();
  private volatile boolean on;

  @Override
  public long beforeCall(String function) {
    if (on && function.equals("C_FindObjects")) {
      count.incrementAndGet();
    }
    return 0L;
  }

  /** Starts counting (from where the count is). */
  public void on() {
    on = true;
  }

  /** Stops counting. */
  public void off() {
    on = false;
  }

  /** The searches counted so far. */
  public int count() {
    return count.get();
  }

  /** The searches {@code work} makes: counts from zero while it runs. */
  public int during(Work work) throws Exception {
    count.set(0);
    on();
    try {
      work.run();
    } finally {
      off();
    }
    return count.get();
  }
}
