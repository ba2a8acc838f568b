package io.p11kms.hsm.testing;

import io.p11kms.hsm.TokenCallInterceptor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link TokenCallInterceptor} for tests: fails chosen PKCS#11 calls with chosen CKR codes, or
 * holds them up, and counts every call by name. {@code "*"} matches every function.
 */
public final class FaultInjector implements TokenCallInterceptor {
  private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();
  private final List<Rule> rules = new ArrayList<>();

  private static final class Rule {
    final String function;
    final long code;
    final long delayMillis;
    int remaining;

    Rule(String function, long code, long delayMillis, int remaining) {
      this.function = function;
      this.code = code;
      this.delayMillis = delayMillis;
      this.remaining = remaining;
    }
  }

  /** The next {@code times} calls of {@code function} fail with {@code ckr}. */
  public synchronized FaultInjector failNext(String function, long ckr, int times) {
    rules.add(new Rule(function, ckr, 0, times));
    return this;
  }

  public FaultInjector failNext(String function, long ckr) {
    return failNext(function, ckr, 1);
  }

  /** Every call of {@code function} fails with {@code ckr} until {@link #clear()}. */
  public synchronized FaultInjector failAlways(String function, long ckr) {
    rules.add(new Rule(function, ckr, 0, -1));
    return this;
  }

  /** The next call of {@code function} takes {@code delay} longer, then goes through. */
  public synchronized FaultInjector delayNext(String function, Duration delay) {
    rules.add(new Rule(function, 0, delay.toMillis(), 1));
    return this;
  }

  public synchronized void clear() {
    rules.clear();
  }

  /** How many times the adapter was about to call {@code function}. */
  public long count(String function) {
    AtomicLong count = counts.get(function);
    return count == null ? 0 : count.get();
  }

  @Override
  public long beforeCall(String function) {
    counts.computeIfAbsent(function, f -> new AtomicLong()).incrementAndGet();
    Rule rule = take(function);
    if (rule == null) {
      return 0;
    }
    if (rule.delayMillis > 0) {
      try {
        Thread.sleep(rule.delayMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return rule.code;
  }

  private synchronized Rule take(String function) {
    Iterator<Rule> it = rules.iterator();
    while (it.hasNext()) {
      Rule rule = it.next();
      if (rule.function.equals(function) || rule.function.equals("*")) {
        if (rule.remaining > 0 && --rule.remaining == 0) {
          it.remove();
        }
        return rule;
      }
    }
    return null;
  }
}
