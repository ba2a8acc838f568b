package io.p11kms.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SlowCallsTest {
  private static final Duration AFTER = Duration.ofMillis(5);

  @Test
  void aSlowCall_isNearAPause_whenDueDuringItOrWithinFiveMillisecondsAfter() {
    SlowCalls slow = new SlowCalls(Duration.ofMillis(5), 100);
    // The clocks as SlowCalls reads them, within microseconds: the spans below are milliseconds.
    Instant base = Instant.now();
    long nanoBase = System.nanoTime();
    GcLog.Pause pause = new GcLog.Pause(base.plusMillis(100), base.plusMillis(102));

    slow.record(nanoBase + ms(101), ms(6)); // during the pause
    slow.record(nanoBase + ms(105), ms(6)); // 3 ms after it ended
    slow.record(nanoBase + ms(200), ms(6)); // long after
    slow.record(nanoBase + ms(101), ms(1)); // fast: not kept

    SlowCalls.Share share = slow.nearPauses(List.of(pause), AFTER, base, base.plusSeconds(1));
    assertThat(slow.count()).isEqualTo(3);
    assertThat(share.calls()).isEqualTo(3);
    assertThat(share.near()).isEqualTo(2);
    // The pause and the 5 ms after it: 7 ms of the 1 s window.
    assertThat(share.chance()).isCloseTo(0.007, within(1e-9));
    assertThat(share.toString()).startsWith("2 of 3 (67%; those spans are 0.7% of the time)");
  }

  @Test
  void write_listsTheSlowCallsInTheOrderTheyWereDue(@TempDir Path dir) throws Exception {
    SlowCalls slow = new SlowCalls(Duration.ofMillis(5), 10);
    Instant base = Instant.now();
    long nanoBase = System.nanoTime();
    slow.record(nanoBase + ms(300), ms(7));
    slow.record(nanoBase + ms(100), ms(12));
    Path file = dir.resolve("slow-calls.csv");

    slow.write(file, base);

    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(3);
    assertThat(lines.get(0)).isEqualTo("due_ms,latency_ms");
    // Due 100 and 300 ms after base, within the microseconds between the two clock reads.
    assertThat(Double.parseDouble(lines.get(1).split(",")[0])).isCloseTo(100, within(1.0));
    assertThat(lines.get(1)).endsWith(",12.000");
    assertThat(Double.parseDouble(lines.get(2).split(",")[0])).isCloseTo(300, within(1.0));
    assertThat(lines.get(2)).endsWith(",7.000");
  }

  @Test
  void overlappingSpans_coverTheWindowOnce() {
    SlowCalls slow = new SlowCalls(Duration.ofMillis(5), 10);
    Instant base = Instant.now();
    List<GcLog.Pause> pauses =
        List.of(
            new GcLog.Pause(base.plusMillis(10), base.plusMillis(12)),
            new GcLog.Pause(base.plusMillis(14), base.plusMillis(15)));
    // 10-17 and 14-20 overlap: 10 ms of the 100 ms window, no calls.
    SlowCalls.Share share = slow.nearPauses(pauses, AFTER, base, base.plusMillis(100));
    assertThat(share.chance()).isCloseTo(0.10, within(1e-9));
    assertThat(share.nearShare()).isZero();
  }

  @Test
  void gcLogPause_startsItsLengthBeforeItsEndStamp() {
    List<String> log =
        List.of(
            "[2026-12-07T09:11:52.744+0000] GC(347) Pause Young (Allocation Failure)"
                + " 82M->19M(127M) 0.681ms",
            "[2026-12-07T09:11:53.000+0000] Using G1");
    List<GcLog.Pause> pauses =
        GcLog.list(
            log, Instant.parse("2026-12-07T09:11:52Z"), Instant.parse("2026-12-07T09:11:54Z"));
    assertThat(pauses)
        .containsExactly(
            new GcLog.Pause(
                Instant.parse("2026-12-07T09:11:52.744Z").minusNanos(681_000),
                Instant.parse("2026-12-07T09:11:52.744Z")));
    assertThat(
            GcLog.pauses(
                    log,
                    Instant.parse("2026-12-07T09:11:52Z"),
                    Instant.parse("2026-12-07T09:11:54Z"))
                .count())
        .isEqualTo(1);
  }

  private static long ms(long millis) {
    return Duration.ofMillis(millis).toNanos();
  }
}
