package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The deadline checks of inline calls, without a token. */
class InlineDeadlinesTest {
  private static final long MILLIS = 1_000_000L;
  private final AtomicInteger answersRun = new AtomicInteger();
  private final InlineDeadlines deadlines =
      new InlineDeadlines(
          Duration.ofMillis(5),
          answer -> {
            answersRun.incrementAndGet();
            answer.run();
          });

  @Test
  void aCallPastItsDeadline_isAbandonedAndAnsweredOnce_throughTheAnswerers() throws Exception {
    AtomicInteger abandons = new AtomicInteger();
    CountDownLatch answered = new CountDownLatch(1);

    deadlines.add(
        20 * MILLIS,
        () -> {
          abandons.incrementAndGet();
          return true;
        },
        answered::countDown);

    assertThat(answered.await(5, TimeUnit.SECONDS)).isTrue();
    Thread.sleep(50);
    assertThat(abandons).hasValue(1);
    assertThat(answersRun).hasValue(1);
  }

  @Test
  void aCallThatFinishedFirst_isNotAnswered() throws Exception {
    CountDownLatch abandonTried = new CountDownLatch(1);
    AtomicInteger answers = new AtomicInteger();

    deadlines.add(
        10 * MILLIS,
        () -> {
          abandonTried.countDown();
          return false; // the call had finished: the compare-and-set lost
        },
        answers::incrementAndGet);

    assertThat(abandonTried.await(5, TimeUnit.SECONDS)).isTrue();
    Thread.sleep(50);
    assertThat(answers).hasValue(0);
  }

  @Test
  void aRemovedCall_isNeverChecked() throws Exception {
    AtomicInteger abandons = new AtomicInteger();
    InlineDeadlines.Pending call =
        deadlines.add(
            10 * MILLIS,
            () -> {
              abandons.incrementAndGet();
              return true;
            },
            () -> {});
    deadlines.remove(call);

    Thread.sleep(100);
    assertThat(abandons).hasValue(0);
  }

  @Test
  void afterClose_newCallsAreRefused_andOneInFlightIsStillAnswered() throws Exception {
    CountDownLatch answered = new CountDownLatch(1);
    deadlines.add(30 * MILLIS, () -> true, answered::countDown);

    deadlines.close();

    assertThatThrownBy(() -> deadlines.add(30 * MILLIS, () -> true, () -> {}))
        .isInstanceOf(RejectedExecutionException.class);
    assertThat(answered.await(5, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void checkPeriod_isATwentiethOfTheDeadline_within5To100Ms() {
    assertThat(InlineDeadlines.periodFor(Duration.ofSeconds(10))).isEqualTo(Duration.ofMillis(100));
    assertThat(InlineDeadlines.periodFor(Duration.ofMillis(1000))).isEqualTo(Duration.ofMillis(50));
    assertThat(InlineDeadlines.periodFor(Duration.ofMillis(20))).isEqualTo(Duration.ofMillis(5));
  }
}
