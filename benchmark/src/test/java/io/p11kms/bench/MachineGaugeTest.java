package io.p11kms.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MachineGaugeTest {
  @Test
  void bothFigures_areCpuMicrosecondsPerOperation() throws Exception {
    MachineGauge.Figures figures = MachineGauge.measure();
    // A SHA-256 of 4 KiB takes microseconds, a hand-off through two queues some more: neither is
    // zero (no CPU read) nor a second (a unit slip).
    assertThat(figures.shaMicros()).isBetween(0.1, 1_000.0);
    assertThat(figures.handOffMicros()).isBetween(0.1, 10_000.0);
    assertThat(figures.toString()).contains("SHA-256 of 4 KiB").contains("us");
  }
}
