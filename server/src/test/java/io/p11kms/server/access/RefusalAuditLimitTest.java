package io.p11kms.server.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class RefusalAuditLimitTest {
  /** A clock the test moves. */
  private static final class TestClock extends Clock {
    private Instant now = Instant.parse("2026-01-01T00:00:00Z");

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

  @Test
  void oneAddress_getsItsBurst_thenOneRecordPerShareOfAMinute_othersUnaffected() {
    TestClock clock = new TestClock();
    RefusalAuditLimit limit = new RefusalAuditLimit(clock, 3, 100);

    for (int i = 0; i < 3; i++) {
      assertThat(limit.admit("192.0.2.1")).isTrue();
    }
    assertThat(limit.admit("192.0.2.1")).isFalse();
    assertThat(limit.admit("192.0.2.1")).isFalse();
    assertThat(limit.admit("192.0.2.2")).isTrue();
    assertThat(limit.notAudited()).isEqualTo(2);

    // Three a minute: one more after 20 seconds, not before.
    clock.advance(Duration.ofSeconds(19));
    assertThat(limit.admit("192.0.2.1")).isFalse();
    clock.advance(Duration.ofSeconds(1));
    assertThat(limit.admit("192.0.2.1")).isTrue();
    assertThat(limit.admit("192.0.2.1")).isFalse();
    assertThat(limit.notAudited()).isEqualTo(4);

    // A quiet minute gives the whole burst back, never more.
    clock.advance(Duration.ofMinutes(10));
    for (int i = 0; i < 3; i++) {
      assertThat(limit.admit("192.0.2.1")).isTrue();
    }
    assertThat(limit.admit("192.0.2.1")).isFalse();
  }

  @Test
  void manyAddresses_areBoundTogether() {
    RefusalAuditLimit limit = new RefusalAuditLimit(new TestClock(), 2, 5);
    int admitted = 0;
    for (int address = 0; address < 10; address++) {
      if (limit.admit("198.51.100." + address)) {
        admitted++;
      }
    }
    assertThat(admitted).isEqualTo(5);
    assertThat(limit.notAudited()).isEqualTo(5);
  }
}
