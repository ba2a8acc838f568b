package io.p11kms.server.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.Derivation;
import io.p11kms.hsm.Hsm;
import io.p11kms.hsm.HsmUnavailableException;
import io.p11kms.hsm.WrapMechanism;
import io.p11kms.hsm.WrappedKey;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The cached deep check: served while fresh, refreshed behind a result under a minute old. */
class XksHealthCheckTest {
  private static final Duration REFRESH = Duration.ofSeconds(20);

  private final AtomicInteger encrypts = new AtomicInteger();
  private final AtomicBoolean failing = new AtomicBoolean();
  private final MovingClock clock = new MovingClock();

  /** A token whose AES-GCM appends a tag of zeros: enough to round-trip, countable, breakable. */
  private final Hsm hsm =
      (Hsm)
          Proxy.newProxyInstance(
              Hsm.class.getClassLoader(),
              new Class<?>[] {Hsm.class},
              (proxy, method, args) ->
                  switch (method.getName()) {
                    case "generateBackingKey" ->
                        new WrappedKey(1, WrapMechanism.AES_KEY_WRAP, new byte[40]);
                    case "derivationFor" -> Derivation.NONE_AES_GCM;
                    case "generateRandom" -> new byte[(int) args[0]];
                    case "encrypt" -> {
                      encrypts.incrementAndGet();
                      if (failing.get()) {
                        throw new HsmUnavailableException("token gone");
                      }
                      byte[] p = (byte[]) args[5];
                      yield Arrays.copyOf(p, p.length + 16);
                    }
                    case "decrypt" -> {
                      byte[] c = (byte[]) args[5];
                      yield Arrays.copyOf(c, c.length - 16);
                    }
                    default -> throw new UnsupportedOperationException(method.getName());
                  });

  @Test
  void aFreshResult_isServedWithoutATokenCall() {
    try (XksHealthCheck check = new XksHealthCheck(hsm, clock, REFRESH, Duration.ofMinutes(1))) {
      assertThat(check.current().healthy()).isTrue();
      assertThat(encrypts).hasValue(1);
      clock.advance(Duration.ofSeconds(19));
      assertThat(check.current().healthy()).isTrue();
      assertThat(encrypts).hasValue(1);
    }
  }

  @Test
  void aStaleResult_isServedWhileTheCheckRunsAgainBehindIt() throws Exception {
    try (XksHealthCheck check = new XksHealthCheck(hsm, clock, REFRESH, Duration.ofMinutes(1))) {
      Instant first = check.current().checkedAt();
      clock.advance(Duration.ofSeconds(30));
      failing.set(true);

      XksHealthCheck.Result served = check.current();
      assertThat(served.checkedAt()).isEqualTo(first);
      assertThat(served.healthy()).isTrue();
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (check.current().healthy() && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      assertThat(check.current().failure().error()).isEqualTo(KmsError.DEPENDENCY_TIMEOUT);
    }
  }

  @Test
  void aResultAMinuteOld_isNeverServed_theCallerWaitsForTheCheck() {
    try (XksHealthCheck check = new XksHealthCheck(hsm, clock, REFRESH, Duration.ofMinutes(1))) {
      check.current();
      clock.advance(Duration.ofSeconds(61));
      failing.set(true);

      XksHealthCheck.Result r = check.current();
      assertThat(r.healthy()).isFalse();
      assertThat(r.checkedAt()).isEqualTo(clock.instant());
      assertThat(encrypts).hasValue(2);
    }
  }

  private static final class MovingClock extends Clock {
    private volatile Instant now = Instant.parse("2030-01-01T00:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
