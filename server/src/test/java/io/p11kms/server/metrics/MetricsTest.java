package io.p11kms.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class MetricsTest {
  @Test
  void theJvmsMeters_areBound_onAThreadOfTheirOwn() throws InterruptedException {
    Metrics metrics = new Metrics();

    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (metrics.registry().find("system.cpu.count").gauge() == null
        && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }

    assertThat(metrics.registry().find("jvm.memory.used").gauges()).isNotEmpty();
    assertThat(metrics.registry().find("jvm.threads.live").gauge()).isNotNull();
    assertThat(metrics.registry().find("system.cpu.count").gauge()).isNotNull();
    assertThat(metrics.registry().scrape()).contains("jvm_memory_used_bytes");
  }
}
