package io.p11kms.server.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.p11kms.hsm.Hsm;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Times every call into the token adapter: a timer {@code p11kms.token.calls} tagged with the
 * adapter operation (encrypt, decrypt, generateBackingKey, generateRandom, ...) and its outcome
 * (ok, or the exception's simple name). Arguments and results are not looked at.
 *
 * <p>A dynamic proxy rather than a decorator class, so that operations added to {@link Hsm} later
 * are timed and passed on without a change here: most of its methods have defaults, which a
 * decorator that missed one would silently not pass on. The reflective call costs little beside a
 * token call; looking the timer up in the registry on every call cost more, so timers are kept.
 */
public final class TimedHsm {
  private static final Set<String> NOT_TIMED =
      Set.of("close", "preferredDerivation", "derivationFor", "toString", "hashCode", "equals");

  private TimedHsm() {}

  public static Hsm wrap(Hsm hsm, MeterRegistry registry) {
    Map<String, Timer> timers = new ConcurrentHashMap<>();
    // The timer of each operation's successful calls, by the method: found without building its
    // tags on every call.
    Map<Method, Timer> succeeded = new ConcurrentHashMap<>();
    return (Hsm)
        Proxy.newProxyInstance(
            Hsm.class.getClassLoader(),
            new Class<?>[] {Hsm.class},
            (proxy, method, args) -> {
              if (NOT_TIMED.contains(method.getName())) {
                return invoke(hsm, method, args);
              }
              long start = System.nanoTime();
              Object result;
              try {
                result = invoke(hsm, method, args);
              } catch (Throwable t) {
                String operation = method.getName();
                timers
                    .computeIfAbsent(
                        operation + '|' + t.getClass().getSimpleName(),
                        k -> timer(registry, operation, k))
                    .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                throw t;
              }
              Timer timer = succeeded.get(method);
              if (timer == null) {
                String operation = method.getName();
                timer =
                    succeeded.computeIfAbsent(
                        method,
                        m ->
                            timers.computeIfAbsent(
                                operation + "|ok", k -> timer(registry, operation, k)));
              }
              timer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
              return result;
            });
  }

  private static Timer timer(MeterRegistry registry, String operation, String tags) {
    return Timer.builder("p11kms.token.calls")
        .description("calls into the PKCS#11 adapter, by operation and outcome")
        .tag("operation", operation)
        .tag("outcome", tags.substring(operation.length() + 1))
        .publishPercentileHistogram()
        .register(registry);
  }

  private static Object invoke(Hsm hsm, Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(hsm, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
